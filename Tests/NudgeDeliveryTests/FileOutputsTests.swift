import Foundation
import NudgeDelivery
import NudgeProviders
import Testing
import NudgeCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `nudge customers erase --include-files`: a customer's lines in the `file` provider's outputs, rewritten without
/// the personal fields while the provider may be appending.
@Suite("File provider outputs under erasure")
struct FileOutputsTests {
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func line(_ id: String, customer: String) -> String {
        var bytes: [UInt8] = []
        OutboundMessage(record: DeliveryFixture.message(id, customer: customer, body: "Hello \(customer)"), sentAt: DeliveryFixture.start)
            .writeJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("only the customer's lines are rewritten: keyed hash for the id, no address or text; the rest stays byte for byte")
    func rewrite() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("email.jsonl").path
        let others = [Self.line("msg_1", customer: "c10"), Self.line("msg_3", customer: "c2")]
        let text = [others[0], Self.line("msg_2", customer: "c1"), others[1], Self.line("msg_4", customer: "c1")]
            .joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try FileOutputs.lines(in: path, customerID: "c1") == [2, 4])
        #expect(try FileOutputs.lines(in: path, customerID: "c") == [], "an id is matched whole")

        #expect(try FileOutputs.erase(customerID: "c1", pseudonym: "erased:0123", in: path) == 2)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == others[0] && lines[2] == others[1])
        for line in [lines[1], lines[3]] {
            #expect(line.hasPrefix(#"{"id":"msg_"#), "the provider finds ids at the line's start")
            #expect(!line.contains("c1@example.com") && !line.contains("Hello c1") && !line.contains("Hi Ana"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["customer"] as? String == "erased:0123" && object["erased"] as? Bool == true)
            #expect(object["workflow"] as? String == "w" && object["channel"] as? String == "email")
        }
        #expect(try FileOutputs.lines(in: path, customerID: "c1") == [])
        #expect(try FileOutputs.erase(customerID: "c1", pseudonym: "erased:0123", in: path) == 0)
        #expect(try FileOutputs.lines(in: directory.appendingPathComponent("missing.jsonl").path, customerID: "c1") == [])
    }

    @Test("the rewrite keeps a torn last line as it is, for the provider to cut, and the file's permissions")
    func tornLineAndMode() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("email.jsonl").path
        let torn = #"{"id":"msg_9","customer":"c1","to":"c1@exa"#
        try (Self.line("msg_1", customer: "c1") + "\n" + torn).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(chmod(path, 0o600) == 0)
        #expect(try FileOutputs.lines(in: path, customerID: "c1") == [1])
        #expect(try FileOutputs.erase(customerID: "c1", pseudonym: "erased:0123", in: path) == 1)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n" + torn), "the torn line stays torn")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["email.jsonl"], "no temporary left")
        // The provider cuts the torn line before its next append.
        _ = try await FileAdapter(path: path).deliver(
            OutboundMessage(record: DeliveryFixture.message("msg_2", customer: "c2"), sentAt: DeliveryFixture.start))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[1].hasPrefix(#"{"id":"msg_2","#))
    }

    @Test("a message appended while an erasure replaces the file lands in the new file")
    func appendDuringErasure() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("email.jsonl").path
        try (Self.line("msg_1", customer: "c1") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        // Hold the lock an erasure holds while the provider opens the file and waits for it.
        let fd = open(path, O_RDONLY)
        #expect(flock(fd, LOCK_EX) == 0)
        let adapter = FileAdapter(path: path)
        let delivery = Task.detached {
            try await adapter.deliver(
                OutboundMessage(record: DeliveryFixture.message("msg_2", customer: "c2"), sentAt: DeliveryFixture.start))
        }
        try await Task.sleep(for: .milliseconds(200))
        // The erasure's new file takes the old one's place; then the lock is released.
        let replacement = path + ".new"
        try "{\"id\":\"msg_1\",\"customer\":\"erased:0123\"}\n".write(toFile: replacement, atomically: false, encoding: .utf8)
        #expect(rename(replacement, path) == 0)
        flock(fd, LOCK_UN)
        close(fd)
        _ = try await delivery.value
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix(#"{"id":"msg_2","#) == true)
    }
}
