import Foundation

/// The cores this process may use.
func activeProcessors() -> Int { ProcessInfo.processInfo.activeProcessorCount }
