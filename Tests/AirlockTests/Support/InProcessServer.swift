import AirlockTestSupport
import Hummingbird
import HummingbirdTesting

extension ApplicationProtocol {
    /// HummingbirdTesting's `test`, with the server's tasks on `ServerExecutor`'s threads: tests that
    /// wait on subprocesses elsewhere in the run cannot starve it.
    func testApart<T: Sendable>(_ mode: TestingSetup, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await ServerExecutor.run { try await self.test(mode, body) }
    }
}
