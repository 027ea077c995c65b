import Synchronization

/// Runs each keyed piece of work once, however many callers ask for it at the same time: later
/// callers await the first caller's task. Used for index pages, metadata files and downloads.
actor TaskMemo<Value: Sendable> {
    private var tasks: [String: Task<Value, any Error>] = [:]

    func value(_ key: String, _ make: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await task(key, make).value
    }

    /// Starts the work for `key` if nobody has yet, without waiting for it: a later `value` finds it
    /// under way or done (its error too, if it failed).
    func start(_ key: String, _ make: @escaping @Sendable () async throws -> Value) {
        _ = task(key, make)
    }

    private func task(_ key: String, _ make: @escaping @Sendable () async throws -> Value) -> Task<Value, any Error> {
        if let task = tasks[key] { return task }
        let task = Task { try await make() }
        tasks[key] = task
        return task
    }
}

/// A synchronous memo for cheap, repeatable answers asked many times within one sync.
final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let values = Mutex<[Key: Value]>([:])

    func value(_ key: Key, _ make: () -> Value) -> Value {
        if let known = values.withLock({ $0[key] }) { return known }
        let made = make()
        values.withLock { $0[key] = made }
        return made
    }
}
