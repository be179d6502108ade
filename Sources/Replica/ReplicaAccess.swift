import Register

/// How a program opens an existing replica file, so that only the programs that own the file
/// ever change its layout.
public enum ReplicaAccess: Sendable {
    /// syncd (and the hub): brings tables, columns and triggers up to this release's schema.
    case upgrade
    /// Writes rows but never the layout (`syncctl sync` without a daemon): the file must hold
    /// exactly this release's schema, or the open is refused with what to do.
    case sameSchema
    /// Reads only (`syncctl status`, `conflicts`, `log`, `doctor`): opened read-only, so it
    /// needs no write permission and changes nothing, whatever the file's schema.
    case readOnly
}
