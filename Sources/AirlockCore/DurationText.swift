import Foundation

/// A duration written as text: `90s`, `15m`, `6h`, `1d`, or combined (`1h30m`).
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        var total: Int64 = 0
        var number = ""
        var any = false
        for c in text.trimmingCharacters(in: .whitespaces) {
            if c.isASCII, c.isNumber {
                number.append(c)
                continue
            }
            guard let n = Int64(number) else { return nil }
            switch c {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86_400
            default: return nil
            }
            number = ""
            any = true
        }
        guard any, number.isEmpty else { return nil }
        return .seconds(total)
    }

    public static func format(_ d: Duration) -> String {
        var s = d.components.seconds
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where s >= size {
            out += "\(s / size)\(unit)"
            s %= size
        }
        return s > 0 || out.isEmpty ? out + "\(s)s" : out
    }
}
