/// What looking at the code inside a distribution found: one signal, where (archive member and line)
/// and a short excerpt, so a reviewer sees the evidence, not a verdict.
public struct ContentFinding: Sendable, Hashable, Codable {
    public let signal: ContentSignal
    /// The distribution file (`name-1.0.tar.gz`).
    public let file: String
    /// The archive member (`name-1.0/setup.py`).
    public let member: String
    /// 1-based, when the signal is at a line.
    public let line: Int?
    /// What was seen there: code, shortened to one line.
    public let excerpt: String
    /// Why it is a signal, in a few words.
    public let detail: String

    public init(signal: ContentSignal, file: String, member: String, line: Int?, excerpt: String, detail: String) {
        self.signal = signal
        self.file = file
        self.member = member
        self.line = line
        self.excerpt = excerpt
        self.detail = detail
    }

    /// `file: member:line: detail: `excerpt``
    public var description: String {
        "\(file): \(member)\(line.map { ":\($0)" } ?? ""): \(detail): `\(excerpt)`"
    }
}

/// The content signals (and the few read from metadata), each a rule with an outcome the policy's
/// `[content]` section sets.
public enum ContentSignal: String, Sendable, Hashable, Codable, CaseIterable {
    /// A `.pth` file whose executed line runs commands, decodes and executes, or reaches the network.
    case pthExec = "pth_exec"
    /// `exec`/`eval`/`compile` of decoded, decrypted or downloaded data (install- or import-time code).
    case decodeExec = "decode_exec"
    /// Install-time code that runs a shell, PowerShell or encoded command line.
    case installShell = "install_shell"
    /// Install-time code that reaches the network.
    case installNetwork = "install_network"
    /// An install command (`install`, `develop`, `egg_info`) overridden by code that runs commands,
    /// reaches the network or executes code.
    case installHook = "install_hook"
    /// Code naming credential stores (`~/.ssh`, `~/.aws/credentials`, browser profiles, tokens).
    case credentialAccess = "credential_access"
    /// A webhook, paste or tunnel host, or a raw IP address URL, in install- or import-time code.
    case exfiltrationHost = "exfiltration_host"
    /// A long encoded or obfuscated blob: a high-entropy string literal, or a very long line.
    case obfuscation
    /// A compiled executable or shared object inside a source distribution.
    case binaryInSdist = "binary_in_sdist"
    /// A console entry point named like a common command (`pip`, `python`, `ls`, `git`, `sudo`).
    case shadowingEntryPoint = "shadowing_entry_point"
    /// An R package's install or load code (`configure`, `cleanup`, `Makevars`, `.onLoad`) downloading
    /// or running a system command.
    case rInstallCode = "r_install_code"
    /// Metadata: the project's first and only release is already at a high version (5 or more), as
    /// imitations bumped to outrank their target often are.
    case highFirstVersion = "high_first_version"
    /// Metadata: the release says nothing about itself (no summary).
    case noSummary = "no_summary"
    /// Metadata: a dependency the project's previous approved release did not have, on a project whose
    /// first release is younger than the policy's `settled_after_days` (how a takeover pulls its payload in).
    case newFreshDependency = "new_fresh_dependency"
    /// Metadata: an sdist whose `Requires-Dist` is static (core metadata 2.2 or later, not `Dynamic`)
    /// yet differs from its wheels' (PEP 643 says they must agree; a doctored wheel or sdist does not).
    case dependencyMismatch = "dependency_mismatch"
    /// Metadata: the project's source or home URL points somewhere else than in its previous approved
    /// release (another host, organisation or repository).
    case homepageChanged = "homepage_changed"
    /// Metadata: an author or maintainer e-mail at a domain no e-mail of the project's previous approved
    /// release used (a new address at the same domain is the takeover rule's, weaker, concern).
    case maintainerDomainNew = "maintainer_domain_new"

    /// Signals that are themselves a comparison with the previous approved release (never "new since").
    public var isChangeSincePrevious: Bool { [.newFreshDependency, .homepageChanged, .maintainerDomainNew].contains(self) }
}
