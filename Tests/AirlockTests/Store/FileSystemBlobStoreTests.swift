import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import Testing

@Suite struct FileSystemBlobStoreTests {
    @Test func putReadAndDeduplicate() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.path)
        let d = try store.put(Array("hello".utf8))
        #expect(d.hex == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(store.contains(d))
        #expect(try store.read(d) == Array("hello".utf8))
        #expect(try store.put(Array("hello".utf8)) == d)
        #expect(store.size(of: d) == 5)
    }

    @Test func stagingIsInvisibleUntilCommitted() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.path)
        let staging = try store.makeStagingPath()
        try Data("partial".utf8).write(to: URL(fileURLWithPath: staging))
        let digest = Digest.of(Array("partial".utf8))
        #expect(!store.contains(digest))
        try store.commit(stagingPath: staging, as: digest)
        #expect(store.contains(digest))
        #expect(!FileManager.default.fileExists(atPath: staging))
    }

    @Test func abandonedStagingIsRemoved() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.path)
        let staging = try store.makeStagingPath()
        try Data("killed mid-download".utf8).write(to: URL(fileURLWithPath: staging))
        try store.removeAbandonedStaging()
        #expect(!FileManager.default.fileExists(atPath: staging))
    }
}
