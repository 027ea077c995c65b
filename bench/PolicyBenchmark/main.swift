// Decides N synthetic releases across M projects under a policy file, with a popularity feed for
// every project and advisories for 1% of them; prints the time for the decisions alone and the
// process's peak memory. usage: PolicyBenchmark POLICY.toml [releases] [projects]
import AirlockCore
import AirlockPolicy
import Dispatch
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: PolicyBenchmark POLICY.toml [releases] [projects]\n".utf8))
    exit(2)
}
let releaseCount = arguments.count > 2 ? Int(arguments[2])! : 1_000_000
let projectCount = arguments.count > 3 ? Int(arguments[3])! : 200_000
let loaded = try PolicyFile.load(arguments[1])
let now = Timestamp.parse("2026-11-23T00:00:00Z")!

/// A deterministic generator (xorshift), so every run decides the same releases.
struct Generator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
var random = Generator()

let setupStart = Date()
let letters = Array("abcdefghijklmnopqrstuvwxyz")
let projects: [String] = (0..<projectCount).map { i in
    let length = 5 + Int(random.next() % 8)
    return String((0..<length).map { _ in letters[Int(random.next() % 26)] }) + "-\(i)"
}
var downloads: [String: Int] = [:]
var advisories: [String: [Advisory]] = [:]
for (i, name) in projects.enumerated() {
    downloads[name] = Int(random.next() % 10_000_000)
    if i % 100 == 0 {
        advisories[name] = [
            Advisory(
                id: "GHSA-bench-\(i)", project: name, summary: "synthetic", severity: Severity(rawValue: 1 + Int(random.next() % 4)),
                malicious: false,
                ranges: [[.init(introduced: "0"), .init(fixed: "3.0")]], versions: [])
        ]
    }
}
let engine = PolicyEngine(loaded, feeds: Feeds(downloads: downloads, advisories: advisories))
let licenses = ["MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0-only", "MIT OR Apache-2.0", "AGPL-3.0-only"]
let perProject = max(releaseCount / projectCount, 1)
let facts: [ReleaseFacts] = (0..<releaseCount).map { r in
    let name = projects[r / perProject % projectCount]
    let version = "\(r % perProject + 1).0"
    let uploaded = now.addingTimeInterval(-Double(random.next() % 2000) * 86_400)
    let file = Distribution(
        ecosystem: .pypi, project: ProjectName(normalized: name, display: name), version: version, filename: "\(name)-\(version)-py3-none-any.whl",
        kind: .wheel, digest: Digest.of([UInt8(r & 0xFF)]), size: 1000, uploadTime: uploaded)
    let license = licenses[Int(random.next() % UInt64(licenses.count))]
    return ReleaseFacts(
        ecosystem: .pypi, project: ProjectName(normalized: name, display: name), version: version, files: [file],
        people: ProjectPeople(author: "Author \(r % 7)", authorEmail: "a\(r % 7)@example.org"), selectedBy: "bench",
        history: ProjectHistory(firstUpload: now.addingTimeInterval(-3000 * 86_400), lastUpload: uploaded, releaseCount: perProject),
        license: LicenseExpression.parse(license), declaredLicense: license)
}
let setupSeconds = Date().timeIntervalSince(setupStart)

/// Decides every release on `workers` threads; returns the seconds taken and how many were approved.
func decideAll(_ facts: [ReleaseFacts], _ engine: PolicyEngine, at now: Date, workers: Int) -> (seconds: Double, approved: Int) {
    nonisolated(unsafe) let verdicts = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: facts.count)  // each worker writes its own indices
    defer { verdicts.deallocate() }
    let start = DispatchTime.now()
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var i = worker
        while i < facts.count {
            verdicts[i] = engine.evaluate(facts[i], at: now).verdict == .approve ? 0 : 1
            i += workers
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return (seconds, verdicts.filter { $0 == 0 }.count)
}

let workers = ProcessInfo.processInfo.activeProcessorCount
let (seconds, approved) = decideAll(facts, engine, at: now, workers: workers)
var usage = rusage()
getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
print(
    String(
        format: "decided %d releases of %d projects in %.2f s (%.0f releases/s, %d threads); %d approved; setup %.1f s; peak RSS %.0f MiB",
        facts.count, projectCount, seconds, Double(facts.count) / seconds, workers, approved, setupSeconds, Double(usage.ru_maxrss) / 1024))
