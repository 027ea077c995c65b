import Foundation

/// Real PEP 740 material that `scripts/install-deps --test` downloads with pip: the distributions and
/// `.provenance` files inside the `pypi-attestations` sdist's `test/assets`, and the Sigstore
/// public-good trusted root inside the `sigstore` wheel. Unpacked into a test's directory.
public struct ProvenanceAssets: Sendable {
    /// `test/assets` of pypi-attestations: `NAME` and `NAME.provenance` side by side.
    public let directory: String
    /// The public-good `trusted_root.json` as the `sigstore` package ships it.
    public let trustedRoot: String

    public static var downloads: String {
        ProcessInfo.processInfo.environment["AIRLOCK_TEST_ASSETS"] ?? NSHomeDirectory() + "/.cache/airlock/test-assets"
    }

    public init(in directory: String) throws {
        let sdist = Self.downloads + "/pypi_attestations-0.0.31.tar.gz"
        let wheel = Self.downloads + "/sigstore-4.5.1-py3-none-any.whl"
        for file in [sdist, wheel] where !FileManager.default.fileExists(atPath: file) {
            throw TestSupportError("\(file) is missing: run scripts/install-deps --test (it downloads the provenance test assets with pip)")
        }
        let out = directory + "/provenance-assets"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let untar = try Subprocess.run("/usr/bin/tar", ["-xzf", sdist, "-C", out])
        guard untar.succeeded else { throw TestSupportError("tar: \(untar.output)") }
        let root = "sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json"
        let unzip = try Subprocess.run(
            "/usr/bin/python3",
            [
                "-c", "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))", wheel, root,
                out + "/trusted_root.json",
            ])
        guard unzip.succeeded else { throw TestSupportError("reading the trusted root from the sigstore wheel: \(unzip.output)") }
        self.directory = out + "/pypi_attestations-0.0.31/test/assets"
        self.trustedRoot = out + "/trusted_root.json"
    }

    public func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))) }
}
