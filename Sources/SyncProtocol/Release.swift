/// The release of CommuneSync these programs belong to: what `communesync_build_info` on the
/// hub's `/metrics` reports, so a dashboard shows which release each hub runs. Raised when a
/// release is cut; the wire's own compatibility is `WireVersion`, not this.
public enum Release {
    public static let version = "0.1.0"
}
