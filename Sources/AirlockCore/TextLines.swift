extension StringProtocol {
    /// The lines of a text, whatever its line endings: LF, CRLF (a single `Character` in Swift, which
    /// `split(separator: "\n")` would not split at) or a lone CR. Empty lines are kept, so index + 1 is the line number.
    public var textLines: [SubSequence] {
        split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }
}
