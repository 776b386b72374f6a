import Foundation
import Mustache
import NudgeLanguage
import Testing

@testable import NudgeRender
import NudgeCore

/// `RenderMemo` must give exactly what Mustache gives for every context, whether it remembers or not.
@Suite("Render memo")
struct RenderMemoTests {
    static func template(_ text: String, channel: Channel = .email, name: String = "t") throws -> MessageTemplate {
        var diagnostics = Diagnostics()
        let template = MessageTemplate.parse(
            text, name: name, channel: channel, file: "Templates/\(name).\(channel.rawValue).mustache",
            diagnostics: &diagnostics)
        #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
        return try #require(template)
    }

    /// A context of `customer.first_name`, `customer.visits_total`, `customer.sms_opt_in`, `customer.attributes.tier`
    /// and `business.name`.
    static func context(first: String?, visits: Int, optIn: Bool, tier: String?) -> LazyContext {
        LazyContext { group in
            switch group {
            case "customer":
                return LazyContext { name in
                    switch name {
                    case "first_name": return first
                    case "visits_total": return visits
                    case "sms_opt_in": return optIn
                    case "attributes": return tier.map { ["tier": $0] } ?? [String: String]()
                    default: return nil
                    }
                }
            case "business": return LazyContext { $0 == "name" ? "Bean & Co <café>" : nil }
            default: return nil
            }
        }
    }

    static var contexts: [LazyContext] {
        (0..<300).map { n in
            context(
                first: n % 7 == 0 ? nil : ["Ana", "Ben", "<b>Zoë</b>", "O'Neil & Sons", ""][n % 5], visits: n % 3,
                optIn: n % 2 == 0, tier: n % 4 == 0 ? nil : ["gold", "silver"][n % 2])
        }
    }

    @Test("gives Mustache's body for every context, HTML escaping included", arguments: [Channel.email, .sms])
    func sameAsMustache(channel: Channel) throws {
        let heading = channel == .email ? "---\nsubject: Hi\n---\n" : ""
        let template = try Self.template(
            heading + "Hi {{customer.first_name}} ({{{customer.first_name}}}), {{customer.visits_total}} visits, "
                + "opt-in {{customer.sms_opt_in}}, tier {{customer.attributes.tier}}, at {{business.name}} "
                + "{{uppercased(customer.first_name)}}{{! a comment }}\n",
            channel: channel)
        #expect(template.bodyPaths?.count == 5)
        let memo = RenderMemo()
        for context in Self.contexts + Self.contexts {
            #expect(memo.body(of: template, context: context) == template.body.render(context))
        }
        #expect(memo.isRemembering(template))
    }

    @Test("values that run together stay apart")
    func unambiguousKeys() throws {
        let template = try Self.template("{{customer.first_name}}|{{business.name}}", channel: .sms)
        let memo = RenderMemo()
        let pairs = [("ab", "c"), ("a", "bc"), ("abc", ""), ("s1:a", "b")]
        for (first, business) in pairs + pairs {
            let context = LazyContext { group in
                switch group {
                case "customer": return LazyContext { $0 == "first_name" ? first : nil }
                case "business": return LazyContext { $0 == "name" ? business : nil }
                default: return nil
                }
            }
            #expect(memo.body(of: template, context: context) == "\(first)|\(business)")
        }
    }

    @Test("a body with sections is rendered by Mustache every time")
    func sections() throws {
        let template = try Self.template("{{#customer.first_name}}Hi {{.}}{{/customer.first_name}}{{^customer.first_name}}Hello{{/customer.first_name}}", channel: .sms)
        #expect(template.bodyPaths == nil)
        let memo = RenderMemo()
        for context in Self.contexts {
            #expect(memo.body(of: template, context: context) == template.body.render(context))
        }
        #expect(!memo.isRemembering(template))
    }

    @Test("a body whose values rarely repeat stops being remembered after its trial")
    func rareRepeats() throws {
        let template = try Self.template("Hi {{customer.first_name}}", channel: .sms)
        let memo = RenderMemo()
        for n in 0..<(RenderMemo.trial + 10) {
            let context = Self.context(first: "name\(n)", visits: 0, optIn: false, tier: nil)
            #expect(memo.body(of: template, context: context) == "Hi name\(n)")
        }
        #expect(!memo.isRemembering(template))
        // A list (tags) is left to Mustache: no key is made of it.
        let list = LazyContext { $0 == "customer" ? LazyContext { $0 == "first_name" ? ["a", "b"] : nil } : nil }
        #expect(RenderMemo.key([["customer", "first_name"]], in: list) == nil)
    }
}
