public import Foundation

/// A stored fit of the customer model (`nudge model fit`): the parameters of both models, what they were fitted
/// on, and the calibration data `nudge model show --html` charts.
public struct ModelFitRecord: Sendable, Hashable {
    /// The `now` of the fit: visits up to it were read.
    public var fittedAt: Date
    /// Customers with visits, and those with at least one repeat transaction.
    public var customers: Int
    public var repeatCustomers: Int
    /// BG/NBD parameters and log-likelihood.
    public var r: Double
    public var alpha: Double
    public var a: Double
    public var b: Double
    public var bgnbdLogLikelihood: Double
    /// Gamma-Gamma parameters and log-likelihood; nil when no repeat customer spent anything.
    public var p: Double?
    public var q: Double?
    public var v: Double?
    public var gammaGammaLogLikelihood: Double?
    /// The calibration chart's data as JSON (written and read by the engine).
    public var details: String

    public init(
        fittedAt: Date, customers: Int, repeatCustomers: Int, r: Double, alpha: Double, a: Double, b: Double,
        bgnbdLogLikelihood: Double, p: Double?, q: Double?, v: Double?, gammaGammaLogLikelihood: Double?, details: String
    ) {
        self.fittedAt = fittedAt
        self.customers = customers
        self.repeatCustomers = repeatCustomers
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
        self.bgnbdLogLikelihood = bgnbdLogLikelihood
        self.p = p
        self.q = q
        self.v = v
        self.gammaGammaLogLikelihood = gammaGammaLogLikelihood
        self.details = details
    }
}

/// One stored visit.
public struct VisitRecord: Sendable, Hashable {
    public var customerID: String
    public var visitedAt: Date
    /// Money spent, in cents (nil when not given).
    public var amountCents: Int?

    public init(customerID: String, visitedAt: Date, amountCents: Int?) {
        self.customerID = customerID
        self.visitedAt = visitedAt
        self.amountCents = amountCents
    }
}

/// How a customer answered the messages delivered to them over a period: what `engagement_score` reads.
public struct MessageResponse: Sendable, Hashable {
    /// Messages delivered in the period.
    public var delivered: Int
    /// Of those, the ones a provider reported opened or clicked.
    public var opened: Int
    /// Of those, the ones a provider reported clicked.
    public var clicked: Int
    /// Whether the customer opted out of a channel in the period (unsubscribe, STOP, complaint).
    public var optedOut: Bool

    public init(delivered: Int = 0, opened: Int = 0, clicked: Int = 0, optedOut: Bool = false) {
        self.delivered = delivered
        self.opened = opened
        self.clicked = clicked
        self.optedOut = optedOut
    }
}
