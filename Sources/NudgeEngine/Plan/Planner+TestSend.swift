public import Foundation
import NudgeLanguage
import NudgeRender
import NudgeStore
public import NudgeCore

/// A message rendered for `nudge send-test`: one workflow's template for one customer, on one channel.
public struct TestMessage: Sendable {
    public var workflowID: String
    public var customerID: String
    public var channel: Channel
    public var template: String
    /// `subject`, `title` or `header`, with its rendered value.
    public var heading: (key: String, value: String)?
    public var body: String
    /// An email's plain-text part, when the project has a text template.
    public var text: String?
    /// The customer's platform on the channel (`push_platform`, `wallet_platform`), if any.
    public var platform: String?
}

extension Planner {
    /// Why a test message cannot be made.
    public struct TestSendError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Renders workflow `workflowID`'s message on `channel` for customer `customerID` at `now`, as if its trigger
    /// had fired then (inactivity: its first number of days; milestone: the customer's fullest card of the offer;
    /// reward: the card with the most rewards), whatever the trigger, `when` conditions, consent and ledger say.
    /// Nothing is written.
    public func testMessage(workflowID: String, customerID: String, channel: Channel?, to address: String, now: Date) async throws
        -> TestMessage
    {
        guard let workflow = project.workflows.first(where: { $0.id == workflowID }) else {
            throw TestSendError(
                description: "no workflow '\(workflowID)'"
                    + (Suggestion.closest(to: workflowID, in: project.workflows.map(\.id)).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        let channels = workflow.actions.flatMap(\.channels)
        let chosen: Channel
        if let channel {
            guard channels.contains(channel) else {
                throw TestSendError(
                    description: "workflow '\(workflowID)' sends no \(channel.rawValue) (it sends \(Set(channels).sorted().map(\.rawValue).joined(separator: ", ")))")
            }
            chosen = channel
        } else {
            let fitting: Channel? = address.contains("@") ? .email : address.hasPrefix("+") ? .sms : nil
            guard let fitting, channels.contains(fitting) else {
                throw TestSendError(
                    description: "cannot tell which channel '--to' is for; name it with --channel (workflow '\(workflowID)' sends \(Set(channels).sorted().map(\.rawValue).joined(separator: ", ")))")
            }
            chosen = fitting
        }
        guard let action = workflow.actions.first(where: { $0.channels.contains(chosen) }),
            let template = project.templates[TemplateKey(name: action.template, channel: chosen)]
        else { throw TestSendError(description: "workflow '\(workflowID)' has no \(chosen.rawValue) template") }

        guard let customer = try await store.customer(id: customerID) else {
            throw TestSendError(description: "no customer '\(customerID)'")
        }
        var occurrence = Occurrence(
            workflowID: workflow.id, customer: customer, key: "test", due: now,
            zone: TriggerScan.zone(of: customer, config: project.config))
        switch workflow.trigger {
        case .inactivity(let days):
            occurrence.parameter = days.first
        case .milestone(let offer, let percents):
            let cards = try await store.progress(customerID: customerID, offer: offer)
            guard let card = cards.max(by: { $0.percent < $1.percent }) else {
                throw TestSendError(
                    description: "customer '\(customerID)' has no stamp card\(offer.map { " for offer '\($0)'" } ?? ""), which this milestone workflow needs")
            }
            occurrence.progress = card
            occurrence.parameter = percents.filter { Double($0) <= card.percent }.max() ?? percents.min()
        case .segment(let name):
            occurrence.key = "segment:\(name):test"
        case .reward(let offer):
            let cards = try await store.progress(customerID: customerID, offer: offer)
            guard let card = cards.max(by: { $0.rewardsEarned < $1.rewardsEarned }) else {
                throw TestSendError(
                    description: "customer '\(customerID)' has no stamp card\(offer.map { " for offer '\($0)'" } ?? ""), which this reward workflow needs")
            }
            occurrence.progress = card
        case .newOffer:
            // The offer published last (by now), else the next one to be.
            let published = try await store.publishedOffers(after: .distantPast, through: .distantFuture)
            guard let offer = published.last(where: { ($0.publishedAt ?? now) <= now }) ?? published.first else {
                throw TestSendError(
                    description: "no offer has a published_at, which this new_offer workflow announces (import offers with that column)")
            }
            occurrence.offer = offer
            occurrence.key = "new_offer:\(offer.id)"
        case .birthday, .signup, .visit, .once, .schedule:
            break
        }
        let counts = try await recentVisitCounts(customerIDs: [customerID], now: now)
        let segments = try await self.segments(for: [workflow], now: now, record: false)
        let facts = self.facts(for: occurrence, of: workflow, now: now, counts: counts[customerID], book: segments.book)
        let rendered = render(template, on: chosen, facts: facts)
        return TestMessage(
            workflowID: workflow.id, customerID: customerID, channel: chosen, template: action.template,
            heading: rendered.heading, body: rendered.body, text: rendered.text,
            platform: chosen == .push ? customer.pushPlatform : chosen == .wallet ? customer.walletPlatform : nil)
    }
}
