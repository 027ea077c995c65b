import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// `serve --tls-cert/--tls-key` with a CA the test makes: real pip, uv and R install over HTTPS when
/// they trust that CA and refuse when they trust another; `--tls-client-ca` gates installs on a
/// client certificate.
@Suite(.timeLimit(.minutes(10))) struct TLSTests {
    private func head(_ url: String, _ args: [String]) throws -> ProcessResult {
        try Subprocess.run("/usr/bin/curl", ["-s", "-S", "-D", "-", "-o", "/dev/null"] + args + [url])
    }

    @Test func pipAndUvInstallOverHTTPSAndRefuseAnotherCA() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"])
        let pki = try TestCertificates(in: mirror.dir.path)
        let server = try AirlockCommand.serve(
            data: mirror.data, logDirectory: mirror.dir.path, extraArgs: ["--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey])
        let index = server.base + "/simple/"
        #expect(index.hasPrefix("https://127.0.0.1:"))

        let page = try head(index + "alpha/", ["--cacert", pki.caCertificate])
        #expect(page.stdout.hasPrefix("HTTP/1.1 200"), "\(page.output)")
        #expect(page.stdout.contains("Strict-Transport-Security: max-age=31536000"), "HSTS when serving TLS: \(page.stdout)")
        #expect(try head(index, ["--cacert", pki.caCertificate, "--tls-max", "1.2"]).stdout.hasPrefix("HTTP/1.1 200"), "TLS 1.2 is accepted")
        let old = try head(index, ["-k", "--tlsv1.0", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0"])
        #expect(!old.succeeded, "TLS 1.0/1.1 are refused: \(old.output)")
        #expect(
            !(try head(index.replacingOccurrences(of: "https:", with: "http:"), [])).stdout.hasPrefix("HTTP/1.1 200"), "no plain HTTP on the TLS port"
        )

        let (pip, python) = try PythonClients.pipInstall(["alpha"], index: index, in: mirror.dir.path, extraArgs: ["--cert", pki.caCertificate])
        #expect(pip.succeeded, "pip over HTTPS:\n\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.hello())").stdout.contains("alpha 1.1"))
        let (pipRefused, _) = try PythonClients.pipInstall(
            ["alpha"], index: index, in: mirror.dir.path, extraArgs: ["--cert", pki.otherCACertificate, "--retries", "0", "--timeout", "5"])
        #expect(!pipRefused.succeeded && pipRefused.output.contains("CERTIFICATE_VERIFY_FAILED"), "pip trusting another CA:\n\(pipRefused.output)")

        let (uv, uvPython) = try PythonClients.uvInstall(
            ["alpha==1.0"], index: index, in: mirror.dir.path, environment: ["SSL_CERT_FILE": pki.caCertificate])
        #expect(uv.succeeded, "uv over HTTPS:\n\(uv.output)")
        #expect(try PythonClients.python(uvPython, "import alpha; print(alpha.__version__)").stdout.contains("1.0"))
        let (uvRefused, _) = try PythonClients.uvInstall(
            ["alpha"], index: index, in: mirror.dir.path, environment: ["SSL_CERT_FILE": pki.otherCACertificate, "UV_HTTP_RETRIES": "0"])
        #expect(!uvRefused.succeeded && uvRefused.output.lowercased().contains("certificate"), "uv trusting another CA:\n\(uvRefused.output)")
    }

    @Test func rInstallsOverHTTPSAndRefusesAnotherCA() throws {
        let cran = try CRANHarness()
        try cran.syncOK(["cranapp"], extra: ["--policy", try cran.policy()])
        let pki = try TestCertificates(in: cran.dir.path)
        let server = try AirlockCommand.serve(
            data: cran.data, logDirectory: cran.dir.path, extraArgs: ["--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey])
        let check = "library(cranapp); cat('RESULT:', app_run(), '\\n')"
        let installed = try RClient.install(
            ["cranapp"], repos: server.base + "/cran/latest", lib: cran.dir.path + "/lib", check: check,
            environment: ["CURL_CA_BUNDLE": pki.caCertificate])
        #expect(installed.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "R over HTTPS:\n\(installed.output)")
        let refused = try RClient.install(
            ["cranapp"], repos: server.base + "/cran/latest", lib: cran.dir.path + "/lib-refused", check: check,
            environment: ["CURL_CA_BUNDLE": pki.otherCACertificate])
        #expect(
            !refused.output.contains("RESULT:") && refused.output.contains("unable to access index"),
            "R trusting another CA (the same URL it installed from):\n\(refused.output)")
    }

    @Test func clientCertificatesGateInstalls() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")])
        try mirror.syncOK(["alpha"])
        let pki = try TestCertificates(in: mirror.dir.path)
        let server = try AirlockCommand.serve(
            data: mirror.data, logDirectory: mirror.dir.path,
            extraArgs: ["--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey, "--tls-client-ca", pki.caCertificate])
        let index = server.base + "/simple/"
        #expect(!(try head(index, ["--cacert", pki.caCertificate])).stdout.contains("HTTP/1.1"), "no client certificate, no answer")
        let (without, _) = try PythonClients.pipInstall(
            ["alpha"], index: index, in: mirror.dir.path, extraArgs: ["--cert", pki.caCertificate, "--retries", "0", "--timeout", "5"])
        #expect(!without.succeeded, "pip without a client certificate:\n\(without.output)")
        let (with, python) = try PythonClients.pipInstall(
            ["alpha"], index: index, in: mirror.dir.path, extraArgs: ["--cert", pki.caCertificate, "--client-cert", pki.clientPEM])
        #expect(with.succeeded, "pip with a client certificate:\n\(with.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.__version__)").stdout.contains("1.0"))
    }

    @Test func unreadableOrMalformedFilesAreNamed() throws {
        let dir = try TemporaryDirectory("airlock-tls")
        try "not a certificate".write(toFile: dir.path + "/bad.pem", atomically: true, encoding: .utf8)
        let missing = try AirlockCommand.run([
            "serve", "--data", dir.path + "/data", "--port", "0", "--tls-cert", dir.path + "/nope.pem", "--tls-key", dir.path + "/nope.key",
        ])
        #expect(!missing.succeeded && missing.output.contains("--tls-cert \(dir.path)/nope.pem: the file does not exist"), "\(missing.output)")
        let bad = try AirlockCommand.run([
            "serve", "--data", dir.path + "/data", "--port", "0", "--tls-cert", dir.path + "/bad.pem", "--tls-key", dir.path + "/bad.pem",
        ])
        #expect(!bad.succeeded && bad.output.contains("--tls-cert \(dir.path)/bad.pem"), "\(bad.output)")
        let half = try AirlockCommand.run(["serve", "--data", dir.path + "/data", "--tls-cert", dir.path + "/bad.pem"])
        #expect(!half.succeeded && half.output.contains("--tls-cert and --tls-key go together"), "\(half.output)")
    }
}
