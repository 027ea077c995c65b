/// Runs each keyed piece of work once, however many callers ask for it at the same time: later
/// callers await the first caller's task. Used for index pages, metadata files and downloads.
actor TaskMemo<Value: Sendable> {
    private var tasks: [String: Task<Value, any Error>] = [:]

    func value(_ key: String, _ make: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let task = tasks[key] { return try await task.value }
        let task = Task { try await make() }
        tasks[key] = task
        return try await task.value
    }
}
