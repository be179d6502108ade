import HubCore
import ReviewDesk
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MergeEngine
import Register
import SyncCore
import SyncProtocol
import Workbook

/// The review desk in a browser: `/review` and its forms. A reviewer logs in by posting the
/// reviewer credential once; the hub answers with a session cookie (HttpOnly, SameSite=Strict,
/// Secure over HTTPS, 8 hours at most) and never puts a credential or session in an address.
/// Every form carries the session's CSRF token, and every answer carries headers that keep the
/// page out of frames, caches and other sites' Referer headers.
public enum ReviewRoutes {
    public struct Options: Sendable {
        /// Mark cookies Secure: set when the hub serves HTTPS itself.
        public var secureCookies = false
        /// How long a login lasts.
        public var sessionLifetime: TimeInterval = 8 * 3600

        public init(secureCookies: Bool = false) {
            self.secureCookies = secureCookies
        }
    }

    static let sessionCookie = "review_session"
    /// Set with the login form: the form's hidden `csrf` must match it (no other site's page
    /// can log a browser in to this desk).
    static let loginCookie = "review_login"
    static let loginFormLifetime = 1800

    /// No script at all, the one inline style sheet by its hash, forms only to this hub, and
    /// no framing (clickjacking).
    static let contentSecurityPolicy: String = {
        let hash = Data(SHA256.hash(data: Data(ReviewPage.style.utf8))).base64EncodedString()
        return "default-src 'none'; style-src 'sha256-\(hash)'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }()

    static let routes = [
        HubRoute(method: "GET", path: "/review"),
        HubRoute(method: "POST", path: "/review/login"),
        HubRoute(method: "POST", path: "/review/logout"),
        HubRoute(method: "POST", path: "/review/resolve"),
        HubRoute(method: "GET", path: "/review/history"),
        HubRoute(method: "GET", path: "/review/item"),
        HubRoute(method: "GET", path: "/review/offices"),
        HubRoute(method: "GET", path: "/review/reports"),
        HubRoute(method: "GET", path: "/review/reports.csv"),
        HubRoute(method: "GET", path: "/review/reports.xlsx"),
        HubRoute(method: "POST", path: "/review/revert"),
        HubRoute(method: "GET", path: "/"),
    ]

    /// The desk's pages check their own session cookie: they sit behind no credential check.
    static func add(
        to router: some RouterMethods<HubRequestContext>, store: HubStore, sessions: ReviewSessions, options: Options, logger: Logger
    ) {
        let desk = Desk(store: store, sessions: sessions, options: options, logger: logger, throttle: LoginThrottle())
        router.get("/review") { request, _ in await desk.guarded { try await desk.page(request) } }
        router.post("/review/login") { request, context in await desk.guarded { try await desk.login(request, from: context.peer) } }
        router.post("/review/logout") { request, _ in await desk.guarded { try await desk.logout(request) } }
        router.post("/review/resolve") { request, _ in await desk.guarded { try await desk.resolve(request) } }
        router.get("/review/history") { request, _ in await desk.guarded { try await desk.history(request) } }
        router.get("/review/item") { request, _ in await desk.guarded { try await desk.item(request) } }
        router.get("/review/offices") { request, _ in await desk.guarded { try await desk.offices(request) } }
        router.get("/review/reports") { request, _ in await desk.guarded { try await desk.reports(request, csv: false) } }
        router.get("/review/reports.csv") { request, _ in await desk.guarded { try await desk.reports(request, csv: true) } }
        router.get("/review/reports.xlsx") { request, _ in await desk.guarded { try await desk.reportsWorkbook(request) } }
        router.post("/review/revert") { request, _ in await desk.guarded { try await desk.revert(request) } }
        // The hub's address alone leads to the desk (login first, when no session is open).
        router.get("/") { _, _ in await desk.guarded { Self.Desk.redirect("/review") } }
    }

    struct Desk: Sendable {
        let store: HubStore
        let sessions: ReviewSessions
        let options: Options
        let logger: Logger
        let throttle: LoginThrottle

        func page(_ request: Request) async throws -> Response {
            guard let session = try await liveSession(request) else {
                let message = request.uri.queryParameters["token"] != nil
                    ? "Mã truy cập không còn được nhận trong địa chỉ trang: hãy nhập vào ô dưới đây và xin mã mới, vì mã cũ đã nằm trong lịch sử trình duyệt. "
                        + "The credential is no longer accepted in the page address (it stays in browser history and proxy logs): "
                        + "type it into the form below, and ask for a new one, since this one has been exposed."
                    : "Nhập mã truy cập của người xem xét. Enter the reviewer credential."
                return loginPage(message, status: .ok)
            }
            // A page of the open items at a time (a district may hold thousands), and the
            // first of those a rule settled.
            let query = request.uri.queryParameters
            let after = query["after"].map(String.init)
            let filter = ReviewFilter(kind: query["kind"].map(String.init) ?? "", commune: query["commune"].map(String.init) ?? "",
                                      text: query["q"].map(String.init) ?? "", olderThanDays: query["age"].flatMap { Int(String($0)) })
            let (open, next) = try await store.reviewPage(filter, after: after, size: ReviewPage.pageSize, for: session.reviewer)
            let settled = after == nil && filter.isEmpty
                ? try await store.conflicts(state: "settled", limit: ReviewPage.pageSize, for: session.reviewer) : []
            let conflicts = open + settled
            let html = ReviewPage.render(
                conflicts: conflicts, names: try await store.reviewNames(for: conflicts), reviewer: session.reviewer.replica.rawValue,
                csrf: session.csrf, notice: query["done"].map { "Đã quyết định — decided: \($0)" }, next: next, filter: filter)
            return Self.html(html, status: .ok)
        }

        /// One item on a page of its own: an address a reviewer can send a colleague.
        func item(_ request: Request) async throws -> Response {
            guard let session = try await liveSession(request) else { return Self.redirect("/review") }
            let id = request.uri.queryParameters["id"].map(String.init) ?? ""
            guard let item = try await store.reviewItem(id, for: session.reviewer) else {
                throw HubError(status: 404, code: "not_found", message: "Không có mục \(id). There is no review item \(id) at this hub.")
            }
            let html = ReviewPage.itemPage(item, names: try await store.reviewNames(for: [item]), reviewer: session.reviewer.replica.rawValue,
                                           csrf: session.csrf)
            return Self.html(html, status: .ok)
        }

        func login(_ request: Request, from address: String) async throws -> Response {
            let fields = try await form(request)
            guard ReviewSessions.same(fields["csrf"], request.cookies[loginCookie]?.value) else {
                return Self.html(ReviewPage.refusalPage(
                    "Biểu mẫu đăng nhập đã cũ hoặc không phải của trang này. The login form is older than 30 minutes or did not come "
                        + "from this desk: open the review page again and log in there."), status: .forbidden)
            }
            let credential = fields["credential"] ?? ""
            // A person logs in with a name and a password; a token names its holder before the '.'.
            let account = (fields["name"] ?? "").trimmingCharacters(in: .whitespaces)
            let password = fields["password"] ?? ""
            let name = account.isEmpty ? String(credential.trimmingCharacters(in: .whitespaces).prefix { $0 != "." }.prefix(64)) : String(account.prefix(64))
            if case .throttled(let retryAfter, let startsBurst, let by) = throttle.check(address: address, name: name) {
                if startsBurst {
                    logger.warning("review logins throttled", metadata: [
                        "by": "\(by)", "wrong_credentials": "\(throttle.maxFailures)", "within_s": "\(Int(throttle.window))",
                        "refused_for_s": "\(retryAfter)"])
                }
                var response = loginPage(
                    "Quá nhiều lần đăng nhập sai; hãy thử lại sau \(retryAfter) giây. Too many wrong credentials from this computer "
                        + "or for this reviewer name: logins are refused for \(retryAfter) s. Check the credential the district gave you.",
                    status: .tooManyRequests)
                response.headers[.retryAfter] = "\(retryAfter)"
                return response
            }
            let caller: Caller
            do {
                caller = account.isEmpty
                    ? try await store.authenticate("Bearer " + credential) : try await store.authenticateReviewer(name: account, password: password)
            } catch let refusal as HubError {
                // A wrong credential counts towards throttling; of a burst only the first is logged.
                let firstOfBurst = refusal.status == 401 ? throttle.failed(address: address, name: name) : true
                if firstOfBurst {
                    logger.notice("review login refused", metadata: ["peer": "\(address)", "why": "\(refusal.message)"])
                }
                return loginPage(refusal.message, status: HTTPResponse.Status(code: refusal.status))
            }
            guard caller.role == .reviewer else {
                logger.notice("review login refused", metadata: ["replica": "\(caller.replica)", "why": "not a reviewer"])
                return loginPage(
                    "Đây là mã của một xã, không mở được trang xem xét. This is the credential of commune office \(caller.replica): "
                        + "the review desk needs a reviewer's ('synchub credential issue --reviewer --replica NAME' at the district).",
                    status: .forbidden)
            }
            let (id, session) = await sessions.open(for: caller)
            logger.info("review login", metadata: ["reviewer": "\(caller.replica)", "until": "\(session.expires.formatted(.iso8601))"])
            var response = Self.redirect("/review")
            response.setCookie(cookie(sessionCookie, id, maxAge: Int(options.sessionLifetime)))
            response.setCookie(cookie(loginCookie, "", maxAge: 0))
            return response
        }

        func logout(_ request: Request) async throws -> Response {
            let fields = try await form(request)
            let id = request.cookies[sessionCookie]?.value
            if let session = try await liveSession(request) {
                guard ReviewSessions.same(fields["csrf"], session.csrf) else { return Self.forged() }
                await sessions.close(id)
                logger.info("review logout", metadata: ["reviewer": "\(session.reviewer.replica)"])
            }
            var response = Self.redirect("/review")
            response.setCookie(cookie(sessionCookie, "", maxAge: 0))
            return response
        }

        func resolve(_ request: Request) async throws -> Response {
            let fields = try await form(request)
            guard let session = try await liveSession(request) else {
                return loginPage(
                    "Phiên làm việc đã kết thúc; quyết định chưa được ghi. Your session has ended (logged out, after "
                        + "\(Int(options.sessionLifetime / 3600)) hours, or your credential was revoked or replaced): nothing was "
                        + "decided. Log in and decide again.",
                    status: .unauthorized)
            }
            guard ReviewSessions.same(fields["csrf"], session.csrf) else { return Self.forged() }
            let value = fields["value"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : Value.text($0) }
            let decision = ResolveRequest(
                id: fields["id"] ?? "", pick: value == nil ? fields["pick"] : nil, value: value, reason: fields["reason"] ?? "")
            // A decision that ends assignments is shown first, with what it does, to confirm.
            if fields["confirm"] != "1" {
                guard !decision.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw HubError.badRequest("say why (reason): it is kept with the decision")
                }
                if let preview = try await store.preview(decision, by: session.reviewer) {
                    let names = try await store.reviewNames(for: try await store.reviewItem(decision.id, for: session.reviewer).map { [$0] } ?? [])
                    return Self.html(ReviewPage.previewPage(preview, decision: decision, names: names, csrf: session.csrf), status: .ok)
                }
            }
            _ = try await store.resolve(decision, by: session.reviewer)
            logger.info("review", metadata: ["conflict": "\(decision.id)", "reviewer": "\(session.reviewer.replica)", "via": "page"])
            return Self.redirect("/review?done=" + (decision.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        }

        func offices(_ request: Request) async throws -> Response {
            guard let session = try await liveSession(request) else { return Self.redirect("/review") }
            return Self.html(ReviewPage.officesPage(try await store.offices(), reviewer: session.reviewer.replica.rawValue, csrf: session.csrf),
                             status: .ok)
        }

        func reports(_ request: Request, csv: Bool) async throws -> Response {
            guard let session = try await liveSession(request) else { return Self.redirect("/review") }
            let (day, unit, year, since) = Self.reportQuery(request)
            let rows = try await store.registerRows()
            let staffing = RegisterReports.staffing(rows, asOf: day, unit: unit)
            if csv {
                let text = RegisterReports.csv(staffing)
                return Response(status: .ok, headers: [
                    .contentType: "text/csv; charset=utf-8",
                    .contentDisposition: "attachment; filename=\"bien-che-\(day).csv\"",
                ], body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            let html = ReviewPage.reportsPage(
                staffing: staffing, concurrent: RegisterReports.concurrent(rows, asOf: day, unit: unit),
                qualifications: RegisterReports.qualifications(rows, asOf: day, unit: unit), ratings: RegisterReports.ratings(rows, year: year, unit: unit),
                trainings: RegisterReports.trainings(rows, since: since, asOf: day, unit: unit), day: day,
                unit: unit, reviewer: session.reviewer.replica.rawValue, csrf: session.csrf)
            return Self.html(html, status: .ok)
        }

        /// Every report as an Excel workbook, for the same date, commune, year and start as the page.
        func reportsWorkbook(_ request: Request) async throws -> Response {
            guard try await liveSession(request) != nil else { return Self.redirect("/review") }
            let (day, unit, year, since) = Self.reportQuery(request)
            let data = try Workbook.reports(try await store.registerRows(), asOf: day, unit: unit, year: year, since: since).data()
            return Response(status: .ok, headers: [
                .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                .contentDisposition: "attachment; filename=\"bao-cao-\(day).xlsx\"",
            ], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }

        /// The date, commune, ratings year and trainings start a reports request asks for, with
        /// their defaults: today, every commune, the year before the date, five years before it.
        static func reportQuery(_ request: Request) -> (day: String, unit: String?, year: Int, since: String) {
            let query = request.uri.queryParameters
            let day = query["as_of"].map(String.init).flatMap { RegisterDate.isDate($0) ? $0 : nil } ?? RegisterDate.today()
            let unit = query["unit"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let year = query["year"].flatMap { Int(String($0)) } ?? (Int(day.prefix(4)) ?? 2025) - 1
            let since = query["since"].map(String.init).flatMap { RegisterDate.isDate($0) ? $0 : nil }
                ?? "\((Int(day.prefix(4)) ?? 2025) - 5)\(day.dropFirst(4))"
            return (day, unit, year, since)
        }

        func history(_ request: Request) async throws -> Response {
            guard let session = try await liveSession(request) else { return Self.redirect("/review") }
            let before = request.uri.queryParameters["before"].flatMap { Int64(String($0)) }
            let decisions = try await store.decisions(before: before, limit: ReviewPage.pageSize, for: session.reviewer)
            let html = ReviewPage.history(
                decisions, reviewer: session.reviewer.replica.rawValue, csrf: session.csrf,
                notice: request.uri.queryParameters["done"].map { "Đã hoàn tác — reverted: #\($0)" },
                next: decisions.count == ReviewPage.pageSize ? decisions.last?.id : nil)
            return Self.html(html, status: .ok)
        }

        func revert(_ request: Request) async throws -> Response {
            let fields = try await form(request)
            guard let session = try await liveSession(request) else {
                return loginPage(
                    "Phiên làm việc đã kết thúc; chưa hoàn tác gì. Your session has ended: nothing was reverted. Log in and try again.",
                    status: .unauthorized)
            }
            guard ReviewSessions.same(fields["csrf"], session.csrf) else { return Self.forged() }
            guard let number = fields["review"].flatMap({ Int64($0) }) else {
                throw HubError.badRequest("which decision to revert: its number is missing from the form")
            }
            _ = try await store.revert(RevertRequest(review: number, reason: fields["reason"] ?? ""), by: session.reviewer)
            logger.info("review reverted", metadata: ["review": "\(number)", "reviewer": "\(session.reviewer.replica)", "via": "page"])
            return Self.redirect("/review/history?done=\(number)")
        }

        /// The session the request's cookie names, if it is open and its reviewer's credential
        /// is still the one the hub holds. The credential is read from the store on every
        /// request, so revoking it (`synchub credential revoke`, through any synchub process
        /// on the same database) ends every open session at its next page or decision.
        func liveSession(_ request: Request) async throws -> ReviewSessions.Session? {
            let id = request.cookies[sessionCookie]?.value
            guard let session = await sessions.session(id) else { return nil }
            guard try await store.stillHolds(session.reviewer) else {
                await sessions.close(id)
                logger.notice("review session ended: credential revoked or replaced", metadata: ["reviewer": "\(session.reviewer.replica)"])
                return nil
            }
            return session
        }

        /// Runs a handler; whatever it answers or throws goes out as a page with the desk's headers.
        func guarded(_ handler: () async throws -> Response) async -> Response {
            var response: Response
            do {
                response = try await handler()
            } catch let refusal as HubError {
                response = Self.html(ReviewPage.refusalPage(refusal.message), status: HTTPResponse.Status(code: refusal.status))
            } catch let error as HTTPError {
                response = Self.html(ReviewPage.refusalPage(error.body ?? "\(error.status)"), status: error.status)
            } catch {
                logger.error("review desk failed", metadata: ["why": "\(error)"])
                response = Self.html(ReviewPage.refusalPage(
                    "Máy chủ gặp lỗi. The hub could not do this (\(error)); nothing was decided: try again, and if it persists "
                        + "show synchub's log to the district's technician."), status: .internalServerError)
            }
            response.headers[HTTPField.Name("Content-Security-Policy")!] = ReviewRoutes.contentSecurityPolicy
            response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
            response.headers[.cacheControl] = "no-store"
            response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return response
        }

        private func form(_ request: Request) async throws -> [String: String] {
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: 64 * 1024)
            } catch {
                throw HubError.tooLarge("a review form is never larger than 64 KiB")
            }
            return ReviewPage.form(String(buffer: body))
        }

        /// The login page, with a fresh login-form token set as a cookie beside it.
        private func loginPage(_ message: String, status: HTTPResponse.Status) -> Response {
            let csrf = ReviewSessions.randomToken()
            var response = Self.html(ReviewPage.loginPage(message: message, csrf: csrf), status: status)
            response.setCookie(cookie(loginCookie, csrf, maxAge: loginFormLifetime))
            return response
        }

        private func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
            Cookie(name: name, value: value, maxAge: maxAge, path: "/review", secure: options.secureCookies, httpOnly: true,
                   sameSite: .strict)
        }

        static func forged() -> Response {
            html(ReviewPage.refusalPage(
                "Biểu mẫu không đến từ phiên làm việc này; không có gì thay đổi. This form did not come from your session "
                    + "on this desk (another site's page, or a page from an earlier login): nothing was changed. "
                    + "Reload the review page and try again."), status: .forbidden)
        }

        static func html(_ html: String, status: HTTPResponse.Status) -> Response {
            Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }

        static func redirect(_ location: String) -> Response {
            Response(status: .seeOther, headers: [.location: location])
        }
    }
}
