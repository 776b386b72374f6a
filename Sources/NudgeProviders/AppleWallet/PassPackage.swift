public import Foundation
import Crypto
import Mustache
import ZIPFoundation

/// An Apple Wallet pass template: a folder `Templates/<name>.pass/` holding `pass.json` (a Mustache template) and the
/// pass's images and other files.
public struct PassTemplate: Sendable {
    public let folder: URL
    let passJSON: MustacheTemplate
    /// The other files, by name (images, localisations), read once.
    let files: [String: Data]

    /// Why a template or the pass made from it is unusable.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Reads the folder; the error names the file.
    public init(folder: URL) throws(Problem) {
        self.folder = folder
        let manager = FileManager.default
        let passPath = folder.appendingPathComponent("pass.json").path
        guard let text = try? String(contentsOfFile: passPath, encoding: .utf8) else {
            throw Problem(description: "\(passPath): cannot read the pass template (is the folder there, with pass.json?)")
        }
        do {
            passJSON = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw Problem(description: "\(passPath): invalid Mustache: \(error)")
        }
        var files: [String: Data] = [:]
        let enumerator = manager.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let name = String(url.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1))
            if ["pass.json", "manifest.json", "signature"].contains(name) || name.hasPrefix(".") { continue }
            guard let data = manager.contents(atPath: url.path) else {
                throw Problem(description: "\(url.path): cannot read it")
            }
            files[name] = data
        }
        self.files = files
    }
}

/// What one customer's pass says beyond its template: who it is for, where it updates from, the latest message.
public struct PassContent: Sendable {
    public var serialNumber: String
    public var passTypeIdentifier: String
    public var teamIdentifier: String
    /// `serve.public_url` + `/passkit`, and the pass's token there (none: the pass never updates).
    public var webService: (url: String, token: String)?
    /// The latest wallet message (header and body), shown in a field whose change the lock screen announces.
    public var message: (header: String, body: String)?
    /// The template's values, each JSON-escaped into its string as it is inserted: `customer`, `card`, `business`,
    /// `message`.
    public var values: [String: [String: String]]

    public init(
        serialNumber: String, passTypeIdentifier: String, teamIdentifier: String, webService: (url: String, token: String)?,
        message: (header: String, body: String)?, values: [String: [String: String]]
    ) {
        self.serialNumber = serialNumber
        self.passTypeIdentifier = passTypeIdentifier
        self.teamIdentifier = teamIdentifier
        self.webService = webService
        self.message = message
        self.values = values
    }
}

/// A signed `.pkpass`: `pass.json` rendered for the customer, `manifest.json` with each file's SHA-1, and `signature`,
/// the manifest's detached CMS signature, zipped.
public enum PassPackage {
    /// The pass styles of `pass.json`: a pass has exactly one.
    static let styles = ["boardingPass", "coupon", "eventTicket", "generic", "storeCard"]
    /// The key of the field carrying the latest message.
    public static let messageField = "nudge_message"

    /// The rendered and completed `pass.json` object.
    public static func passJSON(_ template: PassTemplate, _ content: PassContent) throws(PassTemplate.Problem) -> Data {
        var escaped: [String: [String: String]] = [:]
        for (group, values) in content.values { escaped[group] = values.mapValues(jsonEscaped) }
        let text = template.passJSON.render(escaped)
        let path = template.folder.appendingPathComponent("pass.json").path
        guard var pass = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw PassTemplate.Problem(description: "\(path): the rendered pass is not a JSON object")
        }
        guard let style = styles.first(where: { pass[$0] != nil }), var fields = pass[style] as? [String: Any] else {
            throw PassTemplate.Problem(
                description: "\(path): the pass needs one style (\(styles.joined(separator: ", "))), such as \"storeCard\": {…}")
        }
        pass["formatVersion"] = pass["formatVersion"] ?? 1
        pass["serialNumber"] = content.serialNumber
        pass["passTypeIdentifier"] = content.passTypeIdentifier
        pass["teamIdentifier"] = content.teamIdentifier
        if let service = content.webService {
            pass["webServiceURL"] = service.url
            pass["authenticationToken"] = service.token
        }
        if let message = content.message {
            var back = (fields["backFields"] as? [[String: Any]] ?? []).filter { $0["key"] as? String != messageField }
            back.insert(
                ["key": messageField, "label": message.header, "value": message.body, "changeMessage": "%@"], at: 0)
            fields["backFields"] = back
            pass[style] = fields
        }
        do {
            return try JSONSerialization.data(withJSONObject: pass, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw PassTemplate.Problem(description: "\(path): \(error)")
        }
    }

    /// The `.pkpass` archive.
    public static func build(
        _ template: PassTemplate, _ content: PassContent, signer: PassSigner, at date: Date
    ) throws -> Data {
        var files = template.files
        files["pass.json"] = try passJSON(template, content)
        var manifest: [String: String] = [:]
        for (name, data) in files {
            manifest[name] = Insecure.SHA1.hash(data: data).map { String(format: "%02x", $0) }.joined()
        }
        let manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .withoutEscapingSlashes])
        files["manifest.json"] = manifestData
        files["signature"] = try signer.sign(manifestData, at: date)
        let archive = try Archive(accessMode: .create)
        for name in files.keys.sorted() {
            let data = files[name]!
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: date,
                compressionMethod: .deflate
            ) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let zipped = archive.data else { throw PassTemplate.Problem(description: "cannot zip the pass") }
        return zipped
    }

    /// `text` escaped for the inside of a JSON string.
    static func jsonEscaped(_ text: String) -> String {
        let quoted = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
        // `["…"]` without the brackets and quotes.
        return String(quoted.dropFirst(2).dropLast(2))
    }

    /// The `authenticationToken` of pass `serial`: HMAC-SHA256 of the serial number keyed with the secret, hex.
    public static func authenticationToken(serial: String, secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(serial.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }
}
