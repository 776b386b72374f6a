public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether an open file is still the one a path names (not replaced by a rename since it was opened).
public enum FileIdentity {
    public static func isCurrent(_ fd: Int32, path: String) -> Bool {
        var opened = stat()
        var current = stat()
        guard fstat(fd, &opened) == 0, stat(path, &current) == 0 else { return false }
        return opened.st_ino == current.st_ino && opened.st_dev == current.st_dev
    }

    /// The permission bits of an open file.
    public static func mode(of fd: Int32) -> UInt32? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    /// Writes all of `bytes` to `fd`, again after an interrupted or partial write; false on an error (in `errno`).
    public static func writeAll(_ fd: Int32, _ bytes: some ContiguousBytes) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }
}
