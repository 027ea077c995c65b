import AirlockCore
import Testing

/// What R says of itself: the minor version in its `User-Agent`, and a binary's `Built:` field.
@Suite struct RBinaryTests {
    @Test(
        arguments: [
            ("R (4.4.1 x86_64-pc-linux-gnu x86_64 linux-gnu)", "4.4"), ("R/4.2.2 R (4.2.2 x86_64-pc-linux-gnu x86_64 linux-gnu)", "4.2"),
            ("R (10.12.0 aarch64-unknown-linux-gnu aarch64 linux-gnu)", "10.12"), ("libcurl/7.88.1", nil), ("curl/8.0", nil), ("R (x.y.z)", nil),
            ("NotR (4.4.1 x86_64)", nil), ("R (4)", nil), ("", nil),
        ] as [(String, String?)])
    func userAgents(_ agent: String, _ minor: String?) {
        #expect(RBinary.rMinor(userAgent: agent) == minor, "\(agent)")
    }

    @Test func builtFields() {
        #expect(RBinary.parseBuilt("R 4.4.1; x86_64-pc-linux-gnu; 2024-06-14 10:00:00 UTC; unix")! == ("4.4", "x86_64-pc-linux-gnu"))
        #expect(RBinary.parseBuilt("R 4.2.2; ; 2026-12-06 04:00:00 UTC; unix")! == ("4.2", ""), "no compiled code: no platform")
        #expect(RBinary.parseBuilt("R 4.3.0; aarch64-apple-darwin20; 2023-05-01; unix")! == ("4.3", "aarch64-apple-darwin20"))
        #expect(RBinary.parseBuilt("4.4.1; x86_64-pc-linux-gnu") == nil)
        #expect(RBinary.parseBuilt("R 4; x86_64-pc-linux-gnu; 2024") == nil)
        #expect(RBinary.parseBuilt("R 4.4.1") == nil)
    }
}
