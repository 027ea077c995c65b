import Crypto

/// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, as Rekor uses it.
enum MerkleTree {
    static func leafHash(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: [0] + data)) }

    static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: [1] + left + right)) }

    /// The root an inclusion proof leads to (RFC 9162 §2.1.3.2) for the leaf at `index` of a tree of `size` leaves.
    static func root(leaf: [UInt8], index: Int, size: Int, proof: [[UInt8]]) throws -> [UInt8] {
        guard index >= 0, index < size else {
            throw ProvenanceError.failed(check: "inclusion_proof", detail: "leaf index \(index) is outside a tree of \(size)")
        }
        var fn = index
        var sn = size - 1
        var r = leaf
        for p in proof {
            guard sn != 0 else {
                throw ProvenanceError.failed(check: "inclusion_proof", detail: "the proof has more hashes than the tree has levels")
            }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw ProvenanceError.failed(check: "inclusion_proof", detail: "the proof has fewer hashes than the tree has levels") }
        return r
    }
}
