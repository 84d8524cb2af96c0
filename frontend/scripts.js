// The student management page: staff sign in, then add students, list and find
// them, start a backup.
//
// Everything the page must know about the API comes from /config.json at run
// time: the paths on this origin, the JSON schema the API validates new
// students with, the earliest birthdate and the page size, and where staff sign
// in (config.auth: the Cognito user pool's app client and the endpoint of
// Cognito's JSON API). The form is checked against that schema, so the page and
// the API cannot disagree about what a valid student is. No key, host name or
// absolute URL is ever written here.
//
// Sign-in is plain fetch to Cognito's documented JSON API (no SDK): the password
// flow, the first sign-in's new-password challenge, an authenticator code for
// members who turned one on, refreshing the ID token before it expires, and
// revoking the sign-in when staff sign out. Every API call carries the ID token
// in its Authorization header.
//
// Text reaches the document only through textContent and createElement, and no
// style is set from script: the page runs under a strict Content-Security-Policy.
"use strict";

(() => {
  const CONFIG_PATH = "/config.json";
  const LANGUAGE_KEY = "studentManagement.language";
  const LANGUAGES = ["en", "vi"];
  // The API's query parameter for a look-up, and the field a student is known by.
  const KEY_FIELD = "studentid";

  const MESSAGES = {
    en: {
      "page.title": "Student management",
      "page.skip": "Skip to content",
      "page.heading": "Student management",
      "page.subtitle": "Register students, find them, back up the records.",
      "page.footer": "Student records are personal data: handle them with care.",
      "language.label": "Language",
      "config.loading": "Loading settings…",
      "config.failed": "The page could not load its settings. Reload the page to try again.",
      "auth.heading": "Staff sign-in",
      "auth.intro": "Sign in with your staff e-mail address to see and change student records.",
      "auth.legend": "Your staff account",
      "auth.email": "E-mail",
      "auth.password": "Password",
      "auth.submit": "Sign in",
      "auth.submitting": "Signing in…",
      "auth.cancel": "Cancel",
      "auth.wrongPassword": "The e-mail address or the password is not right.",
      "auth.locked": "This account is disabled. Ask an administrator to enable it again.",
      "auth.attempts": "Too many wrong passwords: this account is locked for a while. Try again later.",
      "auth.mustReset": "Your password must be reset before you can sign in. Ask an administrator for a new temporary password.",
      "auth.temporaryExpired": "Your temporary password has expired. Ask an administrator to invite you again.",
      "auth.notConfirmed": "This account is not confirmed yet. Ask an administrator.",
      "auth.throttled": "Too many sign-in attempts. Wait a minute, then try again.",
      "auth.network": "The sign-in service cannot be reached. Check your connection and try again.",
      "auth.unavailable": "The sign-in service had a problem ({status}). Please try again later.",
      "auth.failed": "Sign-in failed ({reason}).",
      "auth.challengeExpired": "Signing in took too long. Please start again with the password you were given.",
      "auth.unsupportedChallenge": "This account needs a sign-in step the page does not offer ({challenge}). Ask an administrator.",
      "auth.invalidPassword": "The new password was refused: it does not meet the password rules.",
      "auth.expired": "Your session has expired. Please sign in again.",
      "auth.signingOut": "Signing out…",
      "auth.signedOut": "You have signed out.",
      "auth.signedOutLocally":
        "You have signed out of this page, but the sign-in service could not be reached to end the session.",
      "newPassword.heading": "Choose your own password",
      "newPassword.intro": "This is your first sign-in, with a temporary password. Choose a password only you know.",
      "newPassword.legend": "Your new password",
      "newPassword.account": "Account",
      "newPassword.password": "New password",
      "newPassword.confirm": "New password, again",
      "newPassword.submit": "Set password and sign in",
      "newPassword.weak": "The password does not meet every rule above.",
      "newPassword.spaces": "The password must not begin or end with a space.",
      "newPassword.mismatch": "The two passwords are not the same.",
      "policy.title": "Your password needs:",
      "policy.length": "at least {min} characters",
      "policy.lowercase": "a lower-case letter (a–z)",
      "policy.uppercase": "an upper-case letter (A–Z)",
      "policy.digit": "a digit (0–9)",
      "policy.symbol": "a symbol, such as ! ? @ # $ % & * - _",
      "policy.met": "done",
      "policy.unmet": "still needed",
      "mfa.heading": "Enter your authenticator code",
      "mfa.intro": "Your account is protected by an authenticator app. Enter the 6-digit code it shows now.",
      "mfa.legend": "Second sign-in step",
      "mfa.code": "Code",
      "mfa.submit": "Verify and sign in",
      "mfa.format": "Enter the 6 digits your app shows.",
      "mfa.mismatch": "That code is not right. Enter the code your app shows now.",
      "session.signedInAs": "Signed in as",
      "session.signOut": "Sign out",
      "add.heading": "Add a student",
      "add.intro": "All fields are required.",
      "add.legend": "New student",
      "add.save": "Save student",
      "add.saving": "Saving…",
      "add.clear": "Clear",
      "field.studentid": "Student ID",
      "field.name": "Full name",
      "field.class": "Class",
      "field.birthdate": "Date of birth",
      "field.email": "E-mail",
      "hint.studentid": "Up to {max} letters, digits, “_” or “-”, e.g. SV001.",
      "hint.name": "As written on official documents, with accents.",
      "hint.class": "For example CNTT1.",
      "hint.birthdate": "From {earliest} to today.",
      "hint.email": "The confirmation is sent to this address.",
      "error.required": "Please fill in this field.",
      "error.type": "Must be text.",
      "error.minLength": "Must be at least {min} characters long.",
      "error.maxLength": "Must be at most {max} characters long.",
      "error.pattern": "Is not in the expected format.",
      "error.pattern.studentid": "Use only letters, digits, “_” or “-”, without spaces.",
      "error.pattern.email": "Enter an e-mail address such as name@example.com.",
      "error.pattern.birthdate": "Enter a complete date.",
      "error.date.invalid": "This day does not exist in the calendar.",
      "error.date.tooEarly": "Must not be before {earliest}.",
      "error.date.future": "Must not be in the future.",
      "error.unknownField": "The form sent an unknown field “{field}”.",
      "save.saved": "Saved {name} ({id}).",
      "save.emailSent": "A confirmation e-mail was sent to {email}.",
      "save.emailNotSent": "The confirmation e-mail could not be sent.",
      "save.checkFields": "Please correct the highlighted fields.",
      "save.failed": "Not saved.",
      "save.invalid": "Not saved: the server refused some fields ({message}). Please correct the highlighted fields.",
      "save.duplicate": "A student with id {id} already exists.",
      "failure.forbidden": "Access was denied (403). Reload the page; if it happens again, contact the administrator.",
      "failure.tooLarge": "The data is too large to send (413). Shorten the fields and try again.",
      "failure.throttled": "Too many requests (429): please slow down and try again in {seconds} s.",
      "failure.throttledSoon": "Too many requests (429): please slow down and try again in a moment.",
      "failure.server": "The server had a problem ({status}). Please try again later.",
      "failure.network": "The server cannot be reached. Check your connection and try again.",
      "failure.badRequest": "The request was refused ({message}).",
      "failure.unexpected": "The server gave an unexpected answer ({status}).",
      "failure.unauthorized": "Your sign-in could not be renewed (401). Please try again in a moment.",
      "list.heading": "Students",
      "list.refresh": "Refresh",
      "list.loading": "Loading students…",
      "list.emptyTitle": "No students yet",
      "list.emptyText": "Students you add with the form appear here.",
      "list.loadMore": "Load more",
      "list.count.one": "1 student shown",
      "list.count.other": "{count} students shown",
      "list.more": "more available",
      "list.loadFailed": "The students could not be loaded.",
      "list.newRow": "new",
      "lookup.label": "Find by student ID",
      "lookup.button": "Find",
      "lookup.showAll": "Show all students",
      "lookup.empty": "Enter a student ID to search for.",
      "lookup.found": "Found student {id}.",
      "lookup.notFound": "No student has the ID {id}.",
      "lookup.failed": "The student could not be looked up.",
      "backup.heading": "Backup",
      "backup.intro":
        "Copies every student to the backup bucket (restorable DynamoDB JSON, and CSV for spreadsheets), then e-mails a summary.",
      "backup.button": "Back up now",
      "backup.running": "Backing up…",
      "backup.done": "Backup finished: {items} students in {files} files.",
      "backup.failed": "The backup failed.",
      "backup.alreadyRunning": "A backup is already running; showing its progress.",
      "backup.lostTrack": "The backup is taking longer than expected. Its e-mail will say when it is done.",
      "backup.items": "Students backed up",
      "backup.started": "Started",
      "backup.email": "Summary e-mail",
      "backup.emailSent": "Sent",
      "backup.emailNotSent": "Not sent",
      "backup.objects": "Files written",
      "backup.adminOnly": "Only staff in the admin group may run backups. Ask an administrator.",
    },
    vi: {
      "page.title": "Quản lý sinh viên",
      "page.skip": "Chuyển đến nội dung",
      "page.heading": "Quản lý sinh viên",
      "page.subtitle": "Đăng ký, tra cứu và sao lưu hồ sơ sinh viên.",
      "page.footer": "Hồ sơ sinh viên là dữ liệu cá nhân: hãy xử lý cẩn thận.",
      "language.label": "Ngôn ngữ",
      "config.loading": "Đang tải cấu hình…",
      "config.failed": "Trang không tải được cấu hình. Hãy tải lại trang để thử lại.",
      "auth.heading": "Đăng nhập cho cán bộ",
      "auth.intro": "Đăng nhập bằng địa chỉ e-mail cán bộ để xem và cập nhật hồ sơ sinh viên.",
      "auth.legend": "Tài khoản cán bộ của bạn",
      "auth.email": "E-mail",
      "auth.password": "Mật khẩu",
      "auth.submit": "Đăng nhập",
      "auth.submitting": "Đang đăng nhập…",
      "auth.cancel": "Huỷ",
      "auth.wrongPassword": "Địa chỉ e-mail hoặc mật khẩu không đúng.",
      "auth.locked": "Tài khoản này đã bị vô hiệu hoá. Hãy nhờ quản trị viên kích hoạt lại.",
      "auth.attempts": "Nhập sai mật khẩu quá nhiều lần: tài khoản tạm thời bị khoá. Hãy thử lại sau.",
      "auth.mustReset": "Mật khẩu của bạn cần được đặt lại trước khi đăng nhập. Hãy xin quản trị viên một mật khẩu tạm thời mới.",
      "auth.temporaryExpired": "Mật khẩu tạm thời đã hết hạn. Hãy nhờ quản trị viên gửi lại lời mời.",
      "auth.notConfirmed": "Tài khoản này chưa được xác nhận. Hãy liên hệ quản trị viên.",
      "auth.throttled": "Có quá nhiều lần đăng nhập. Hãy đợi một phút rồi thử lại.",
      "auth.network": "Không kết nối được tới dịch vụ đăng nhập. Hãy kiểm tra kết nối rồi thử lại.",
      "auth.unavailable": "Dịch vụ đăng nhập gặp sự cố ({status}). Vui lòng thử lại sau.",
      "auth.failed": "Đăng nhập không thành công ({reason}).",
      "auth.challengeExpired": "Quá trình đăng nhập kéo dài quá lâu. Hãy bắt đầu lại với mật khẩu bạn đã được cấp.",
      "auth.unsupportedChallenge": "Tài khoản này cần một bước đăng nhập mà trang chưa hỗ trợ ({challenge}). Hãy liên hệ quản trị viên.",
      "auth.invalidPassword": "Mật khẩu mới bị từ chối: mật khẩu không đáp ứng các quy định.",
      "auth.expired": "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
      "auth.signingOut": "Đang đăng xuất…",
      "auth.signedOut": "Bạn đã đăng xuất.",
      "auth.signedOutLocally":
        "Bạn đã đăng xuất khỏi trang này, nhưng không kết nối được tới dịch vụ đăng nhập để kết thúc phiên.",
      "newPassword.heading": "Đặt mật khẩu của riêng bạn",
      "newPassword.intro": "Đây là lần đăng nhập đầu tiên, bằng mật khẩu tạm thời. Hãy chọn một mật khẩu chỉ mình bạn biết.",
      "newPassword.legend": "Mật khẩu mới của bạn",
      "newPassword.account": "Tài khoản",
      "newPassword.password": "Mật khẩu mới",
      "newPassword.confirm": "Nhập lại mật khẩu mới",
      "newPassword.submit": "Đặt mật khẩu và đăng nhập",
      "newPassword.weak": "Mật khẩu chưa đáp ứng mọi quy định ở trên.",
      "newPassword.spaces": "Mật khẩu không được bắt đầu hoặc kết thúc bằng dấu cách.",
      "newPassword.mismatch": "Hai mật khẩu không giống nhau.",
      "policy.title": "Mật khẩu cần có:",
      "policy.length": "ít nhất {min} ký tự",
      "policy.lowercase": "một chữ thường (a–z)",
      "policy.uppercase": "một chữ hoa (A–Z)",
      "policy.digit": "một chữ số (0–9)",
      "policy.symbol": "một ký hiệu, ví dụ ! ? @ # $ % & * - _",
      "policy.met": "đã đạt",
      "policy.unmet": "còn thiếu",
      "mfa.heading": "Nhập mã xác thực",
      "mfa.intro": "Tài khoản của bạn được bảo vệ bằng ứng dụng xác thực. Hãy nhập mã 6 chữ số đang hiển thị.",
      "mfa.legend": "Bước đăng nhập thứ hai",
      "mfa.code": "Mã xác thực",
      "mfa.submit": "Xác minh và đăng nhập",
      "mfa.format": "Hãy nhập đủ 6 chữ số ứng dụng đang hiển thị.",
      "mfa.mismatch": "Mã không đúng. Hãy nhập mã ứng dụng đang hiển thị.",
      "session.signedInAs": "Đã đăng nhập:",
      "session.signOut": "Đăng xuất",
      "add.heading": "Thêm sinh viên",
      "add.intro": "Tất cả các trường đều bắt buộc.",
      "add.legend": "Sinh viên mới",
      "add.save": "Lưu sinh viên",
      "add.saving": "Đang lưu…",
      "add.clear": "Xoá",
      "field.studentid": "Mã sinh viên",
      "field.name": "Họ và tên",
      "field.class": "Lớp",
      "field.birthdate": "Ngày sinh",
      "field.email": "E-mail",
      "hint.studentid": "Tối đa {max} chữ cái, chữ số, “_” hoặc “-”, ví dụ SV001.",
      "hint.name": "Như trên giấy tờ chính thức, có dấu.",
      "hint.class": "Ví dụ: CNTT1.",
      "hint.birthdate": "Từ {earliest} đến hôm nay.",
      "hint.email": "Thư xác nhận được gửi tới địa chỉ này.",
      "error.required": "Vui lòng điền trường này.",
      "error.type": "Phải là văn bản.",
      "error.minLength": "Phải có ít nhất {min} ký tự.",
      "error.maxLength": "Không được dài quá {max} ký tự.",
      "error.pattern": "Không đúng định dạng.",
      "error.pattern.studentid": "Chỉ dùng chữ cái, chữ số, “_” hoặc “-”, không có dấu cách.",
      "error.pattern.email": "Nhập địa chỉ e-mail, ví dụ ten@example.com.",
      "error.pattern.birthdate": "Nhập đầy đủ ngày, tháng, năm.",
      "error.date.invalid": "Ngày này không có trong lịch.",
      "error.date.tooEarly": "Không được trước {earliest}.",
      "error.date.future": "Không được là ngày trong tương lai.",
      "error.unknownField": "Biểu mẫu gửi một trường không xác định “{field}”.",
      "save.saved": "Đã lưu {name} ({id}).",
      "save.emailSent": "Đã gửi e-mail xác nhận tới {email}.",
      "save.emailNotSent": "Không gửi được e-mail xác nhận.",
      "save.checkFields": "Vui lòng sửa các trường được đánh dấu.",
      "save.failed": "Chưa lưu.",
      "save.invalid": "Chưa lưu: máy chủ từ chối một số trường ({message}). Vui lòng sửa các trường được đánh dấu.",
      "save.duplicate": "Đã có sinh viên với mã {id}.",
      "failure.forbidden": "Truy cập bị từ chối (403). Hãy tải lại trang; nếu vẫn lỗi, hãy liên hệ quản trị viên.",
      "failure.tooLarge": "Dữ liệu quá lớn để gửi (413). Hãy rút ngắn các trường rồi thử lại.",
      "failure.throttled": "Quá nhiều yêu cầu (429): vui lòng chậm lại và thử lại sau {seconds} giây.",
      "failure.throttledSoon": "Quá nhiều yêu cầu (429): vui lòng chậm lại và thử lại sau giây lát.",
      "failure.server": "Máy chủ gặp sự cố ({status}). Vui lòng thử lại sau.",
      "failure.network": "Không kết nối được tới máy chủ. Hãy kiểm tra kết nối rồi thử lại.",
      "failure.badRequest": "Yêu cầu bị từ chối ({message}).",
      "failure.unexpected": "Máy chủ trả lời không như mong đợi ({status}).",
      "failure.unauthorized": "Không gia hạn được phiên đăng nhập (401). Vui lòng thử lại sau giây lát.",
      "list.heading": "Danh sách sinh viên",
      "list.refresh": "Làm mới",
      "list.loading": "Đang tải danh sách…",
      "list.emptyTitle": "Chưa có sinh viên nào",
      "list.emptyText": "Sinh viên bạn thêm bằng biểu mẫu sẽ hiện ở đây.",
      "list.loadMore": "Tải thêm",
      "list.count.one": "Đang hiển thị 1 sinh viên",
      "list.count.other": "Đang hiển thị {count} sinh viên",
      "list.more": "còn nữa",
      "list.loadFailed": "Không tải được danh sách sinh viên.",
      "list.newRow": "mới",
      "lookup.label": "Tìm theo mã sinh viên",
      "lookup.button": "Tìm",
      "lookup.showAll": "Hiện tất cả sinh viên",
      "lookup.empty": "Nhập mã sinh viên cần tìm.",
      "lookup.found": "Đã tìm thấy sinh viên {id}.",
      "lookup.notFound": "Không có sinh viên nào mang mã {id}.",
      "lookup.failed": "Không tra cứu được sinh viên.",
      "backup.heading": "Sao lưu",
      "backup.intro":
        "Sao chép toàn bộ sinh viên vào bucket sao lưu (DynamoDB JSON để khôi phục, và CSV cho bảng tính), rồi gửi e-mail tóm tắt.",
      "backup.button": "Sao lưu ngay",
      "backup.running": "Đang sao lưu…",
      "backup.done": "Sao lưu xong: {items} sinh viên trong {files} tệp.",
      "backup.failed": "Sao lưu thất bại.",
      "backup.alreadyRunning": "Một bản sao lưu khác đang chạy; đang hiển thị tiến độ của nó.",
      "backup.lostTrack": "Sao lưu lâu hơn dự kiến. E-mail tóm tắt sẽ báo khi hoàn tất.",
      "backup.items": "Số sinh viên đã sao lưu",
      "backup.started": "Bắt đầu lúc",
      "backup.email": "E-mail tóm tắt",
      "backup.emailSent": "Đã gửi",
      "backup.emailNotSent": "Không gửi được",
      "backup.objects": "Các tệp đã ghi",
      "backup.adminOnly": "Chỉ cán bộ thuộc nhóm quản trị (admin) mới được sao lưu. Hãy liên hệ quản trị viên.",
    },
  };

  // The functions word their per-field reasons in English; these are the ones
  // they give today. A reason not listed here is shown as the server wrote it.
  const SERVER_REASONS = {
    vi: {
      "is required": "Vui lòng điền trường này.",
      "must be a string": "Phải là văn bản.",
      "unknown field": "Trường không xác định.",
      "already exists": "Mã này đã được dùng.",
      "must contain a letter": "Phải có ít nhất một chữ cái.",
      "may contain only letters, spaces, apostrophes, periods and hyphens":
        "Chỉ được gồm chữ cái, dấu cách, dấu nháy đơn, dấu chấm và dấu gạch ngang.",
      "must be a date written YYYY-MM-DD": "Phải là ngày viết theo dạng YYYY-MM-DD.",
      "is not a calendar date": "Ngày này không có trong lịch.",
      "must not be in the future": "Không được là ngày trong tương lai.",
      "must not begin or end with a space": "Không được bắt đầu hoặc kết thúc bằng dấu cách.",
      "must not be before 1900-01-01": "Không được trước ngày 1900-01-01.",
    },
  };

  const byId = (id) => document.getElementById(id);
  const el = {
    language: byId("language"),
    form: byId("student-form"),
    fieldset: byId("student-fieldset"),
    saveButton: byId("save-button"),
    formStatus: byId("form-status"),
    lookupForm: byId("lookup-form"),
    lookupInput: byId("lookup-id"),
    lookupButton: byId("lookup-button"),
    lookupError: byId("lookup-error"),
    showAllButton: byId("show-all-button"),
    refreshButton: byId("refresh-button"),
    listStatus: byId("list-status"),
    listCount: byId("list-count"),
    tableRegion: byId("table-region"),
    table: byId("student-table"),
    headRow: byId("student-head-row"),
    rows: byId("student-rows"),
    loading: byId("list-loading"),
    empty: byId("list-empty"),
    loadMoreButton: byId("load-more-button"),
    backupSection: byId("backup-section"),
    backupButton: byId("backup-button"),
    backupStatus: byId("backup-status"),
    backupResult: byId("backup-result"),
    backupItems: byId("backup-items"),
    backupStarted: byId("backup-started"),
    backupEmail: byId("backup-email"),
    backupObjects: byId("backup-objects"),
    main: byId("main"),
    workspace: byId("workspace"),
    session: byId("session"),
    sessionEmail: byId("session-email"),
    signOutButton: byId("sign-out-button"),
    authSection: byId("auth-section"),
    authStatus: byId("auth-status"),
    signInForm: byId("sign-in-form"),
    signInFieldset: byId("sign-in-fieldset"),
    signInEmail: byId("sign-in-email"),
    signInPassword: byId("sign-in-password"),
    signInButton: byId("sign-in-button"),
    newPasswordForm: byId("new-password-form"),
    newPasswordAccount: byId("new-password-account"),
    passwordRules: byId("password-rules"),
    newPassword: byId("new-password"),
    newPasswordAgain: byId("new-password-again"),
    newPasswordButton: byId("new-password-button"),
    mfaForm: byId("mfa-form"),
    mfaCode: byId("mfa-code"),
    mfaButton: byId("mfa-button"),
  };

  const state = {
    language: "en",
    config: null,
    students: [], // the full list as loaded so far, newest additions first
    listLoaded: false,
    nextToken: null,
    mode: "list", // "list", or "lookup" while a look-up result is shown
    lookupResult: null,
    newIds: new Set(),
    loadingList: false,
    saving: false,
    backingUp: false,
    lastBackup: null,
  };

  // Every message on screen, kept as what it says rather than as text, so a
  // change of language rewrites it. A message is a list of parts:
  // {key, params} (translated), {reason} (a server's reason) or {raw} (as is).
  const shownMessages = new Map();

  // --- Text ------------------------------------------------------------------

  function t(key, params = {}) {
    const template = MESSAGES[state.language][key] ?? MESSAGES.en[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (whole, name) =>
      name in params ? formatValue(params[name]) : whole,
    );
  }

  function formatValue(value) {
    return typeof value === "number" ? new Intl.NumberFormat(state.language).format(value) : String(value);
  }

  function sentence(text) {
    const trimmed = String(text).trim();
    if (!trimmed) return "";
    const capital = trimmed[0].toLocaleUpperCase(state.language) + trimmed.slice(1);
    return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
  }

  function compose(parts) {
    return parts
      .map((part) => {
        if ("key" in part) return t(part.key, part.params);
        if ("reason" in part) return SERVER_REASONS[state.language]?.[part.reason] ?? sentence(part.reason);
        return part.raw;
      })
      .filter(Boolean)
      .join(" ");
  }

  function showMessage(element, tone, parts) {
    shownMessages.set(element, { tone, parts });
    renderMessage(element);
  }

  function renderMessage(element) {
    const message = shownMessages.get(element);
    element.textContent = message ? compose(message.parts) : "";
    element.dataset.tone = message ? message.tone : "";
    element.hidden = !message;
  }

  function clearMessage(element) {
    shownMessages.delete(element);
    renderMessage(element);
  }

  function setLabel(element, key) {
    element.dataset.i18n = key;
    element.textContent = t(key);
  }

  // --- Language --------------------------------------------------------------

  function initialLanguage() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(LANGUAGE_KEY);
    } catch {
      // Storage may be disabled; the browser's language decides then.
    }
    if (LANGUAGES.includes(stored)) return stored;
    return (navigator.language || "").toLowerCase().startsWith("vi") ? "vi" : "en";
  }

  function applyLanguage(language) {
    state.language = LANGUAGES.includes(language) ? language : "en";
    document.documentElement.lang = state.language;
    el.language.value = state.language;
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    renderHints();
    renderPasswordRules();
    for (const element of shownMessages.keys()) renderMessage(element);
    if (state.config) {
      renderTableHead();
      renderList();
      renderBackup();
    }
  }

  function chooseLanguage(language) {
    applyLanguage(language);
    try {
      window.localStorage.setItem(LANGUAGE_KEY, state.language);
    } catch {
      // Not remembered across visits, but the page still switches.
    }
  }

  // --- Run-time configuration ------------------------------------------------

  function isOwnOriginPath(path) {
    return (
      typeof path === "string" &&
      path.startsWith("/") &&
      !path.startsWith("//") &&
      new URL(path, window.location.href).origin === window.location.origin
    );
  }

  // Cognito's JSON API: a path of this origin (the local system), or an absolute URL
  // of the page's own scheme, https in AWS (never a downgrade). The CSP's connect-src
  // names the one other origin the page may call.
  function isSignInEndpoint(endpoint) {
    if (isOwnOriginPath(endpoint)) return true;
    try {
      return new URL(endpoint).protocol === window.location.protocol;
    } catch {
      return false;
    }
  }

  async function loadConfig() {
    const response = await fetch(CONFIG_PATH, { cache: "no-cache", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${CONFIG_PATH} answered ${response.status}`);
    const config = await response.json();
    const api = config?.api ?? {};
    if (!isOwnOriginPath(api.students) || !isOwnOriginPath(api.backup)) {
      throw new Error(`${CONFIG_PATH}: the API paths must be paths on this origin`);
    }
    if (!Array.isArray(config.studentFields) || typeof config.studentSchema !== "object") {
      throw new Error(`${CONFIG_PATH}: studentFields and studentSchema are required`);
    }
    if (!Number.isInteger(config.pageSize) || config.pageSize < 1) {
      throw new Error(`${CONFIG_PATH}: pageSize must be a positive integer`);
    }
    const auth = config.auth ?? {};
    if (typeof auth.clientId !== "string" || !auth.clientId || !isSignInEndpoint(auth.endpoint)) {
      throw new Error(`${CONFIG_PATH}: auth.clientId and auth.endpoint (where staff sign in) are required`);
    }
    return config;
  }

  function fieldInput(field) {
    return byId(`field-${field}`);
  }

  function fieldError(field) {
    return byId(`field-${field}-error`);
  }

  function configureForm() {
    const schema = state.config.studentSchema;
    const required = new Set(schema.required ?? []);
    for (const field of state.config.studentFields) {
      const input = fieldInput(field);
      if (!input) continue;
      input.setAttribute("aria-required", String(required.has(field)));
    }
    const birthdate = fieldInput("birthdate");
    if (birthdate) {
      birthdate.min = state.config.earliestBirthdate;
      birthdate.max = todayIso();
    }
  }

  function renderHints() {
    if (!state.config) return;
    const properties = state.config.studentSchema.properties ?? {};
    for (const node of document.querySelectorAll("[data-hint]")) {
      const field = node.dataset.hint;
      node.textContent = t(`hint.${field}`, {
        max: properties[field]?.maxLength ?? "",
        earliest: formatDate(state.config.earliestBirthdate),
      });
    }
  }

  // --- Validation: a JSON Schema (draft 4) checker for what the schema uses ----

  const patterns = new Map();

  function patternOf(source) {
    if (!patterns.has(source)) patterns.set(source, new RegExp(source, "u"));
    return patterns.get(source);
  }

  function hasType(value, type) {
    if (Array.isArray(type)) return type.some((one) => hasType(value, one));
    switch (type) {
      case "object":
        return value !== null && typeof value === "object" && !Array.isArray(value);
      case "array":
        return Array.isArray(value);
      case "integer":
        return Number.isInteger(value);
      case "null":
        return value === null;
      default:
        return typeof value === type;
    }
  }

  // Adds to `problems` (field → {key, params}) the first rule `value` breaks.
  function checkSchema(schema, value, field, problems) {
    const fail = (key, params = {}) => {
      if (!problems.has(field)) problems.set(field, { key, params });
    };
    if (schema.type !== undefined && !hasType(value, schema.type)) return fail("error.type");
    if (typeof value === "string") {
      // JSON Schema counts characters as code points, not UTF-16 units.
      const length = [...value].length;
      if (schema.minLength !== undefined && length < schema.minLength) {
        return fail("error.minLength", { min: schema.minLength });
      }
      if (schema.maxLength !== undefined && length > schema.maxLength) {
        return fail("error.maxLength", { max: schema.maxLength });
      }
      if (schema.pattern !== undefined && !patternOf(schema.pattern).test(value)) {
        return fail(field && MESSAGES.en[`error.pattern.${field}`] ? `error.pattern.${field}` : "error.pattern");
      }
    }
    if (hasType(value, "object")) {
      const properties = schema.properties ?? {};
      const required = schema.required ?? [];
      for (const name of required) {
        // A form field left empty is a required property not given.
        if (!(name in value) || value[name] === "") problems.set(name, { key: "error.required", params: {} });
      }
      for (const [name, child] of Object.entries(value)) {
        if (problems.has(name)) continue;
        if (Object.hasOwn(properties, name)) {
          checkSchema(properties[name], child, name, problems);
        } else if (schema.additionalProperties === false) {
          problems.set(name, { key: "error.unknownField", params: { field: name } });
        } else if (hasType(schema.additionalProperties, "object")) {
          checkSchema(schema.additionalProperties, child, name, problems);
        }
      }
    }
    return undefined;
  }

  function todayIso() {
    const now = new Date();
    const pad = (number) => String(number).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  function birthdateProblem(text) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return { key: "error.pattern.birthdate", params: {} };
    const [year, month, day] = match.slice(1).map(Number);
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return { key: "error.date.invalid", params: {} };
    }
    // ISO dates of four-digit years compare as text.
    if (text < state.config.earliestBirthdate) {
      return { key: "error.date.tooEarly", params: { earliest: formatDate(state.config.earliestBirthdate) } };
    }
    if (text > todayIso()) return { key: "error.date.future", params: {} };
    return null;
  }

  function checkStudent(values) {
    const problems = new Map();
    checkSchema(state.config.studentSchema, values, "", problems);
    const birthdate = fieldInput("birthdate");
    if (birthdate?.validity.badInput) {
      // The browser holds a date it cannot turn into a value, e.g. 31 February.
      problems.set("birthdate", { key: "error.date.invalid", params: {} });
    } else if ("birthdate" in values && !problems.has("birthdate")) {
      const problem = birthdateProblem(values.birthdate);
      if (problem) problems.set("birthdate", problem);
    }
    return problems;
  }

  // --- Talking to the API ------------------------------------------------------

  // One request to the API with the signed-in member's ID token, as the gateway's
  // Cognito authorizer reads it: the token itself in Authorization, no "Bearer".
  async function send(method, path, { query, body } = {}, idToken = "") {
    const url = query ? `${path}?${new URLSearchParams(query)}` : path;
    const init = {
      method,
      cache: "no-store",
      credentials: "same-origin",
      headers: { Accept: "application/json", Authorization: idToken },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      return { status: 0, data: null, retryAfter: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      // Not JSON (a proxy's error page, say): the status alone tells what happened.
    }
    return { status: response.status, data, retryAfter: response.headers.get("Retry-After") };
  }

  // A call made for one sign-in. The token is renewed first if it is about to lapse
  // (a background tab's timer may have fired late); an answer of 401 (the token
  // expired or was refused) renews it once and repeats the call: the authorizer
  // refused it before any function ran. If Cognito will not renew it, the session
  // is over: the sign-in form comes back, saying so. An answer that arrives after
  // its sign-in ended is marked stale, and the caller drops it.
  async function callApi(method, path, options = {}) {
    const caller = signedIn;
    const stale = { status: 401, data: null, retryAfter: null, stale: true };
    if (!caller) return stale;
    if (Date.now() >= caller.expiresAt - EXPIRY_SLACK_MS) await refreshTokens();
    if (signedIn !== caller) return stale;
    let result = await send(method, path, options, caller.idToken);
    if (result.status === 401 && signedIn === caller && (await refreshTokens())) {
      result = await send(method, path, options, caller.idToken);
    }
    return signedIn === caller ? result : stale;
  }

  function retrySeconds(header) {
    if (!header) return null;
    if (/^\d+$/.test(header.trim())) return Math.max(1, Number(header.trim()));
    const when = Date.parse(header);
    return Number.isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
  }

  function serverMessage(result) {
    const message = result.data?.message;
    return typeof message === "string" && message ? message : "";
  }

  // What went wrong, for any answer but the one the caller hoped for.
  function describeFailure(result) {
    const { status } = result;
    if (status === 0) return [{ key: "failure.network" }];
    if (status === 401) return [{ key: "failure.unauthorized" }];
    if (status === 403) return [{ key: "failure.forbidden" }];
    if (status === 413) return [{ key: "failure.tooLarge" }];
    if (status === 429) {
      const seconds = retrySeconds(result.retryAfter);
      return [seconds ? { key: "failure.throttled", params: { seconds } } : { key: "failure.throttledSoon" }];
    }
    if (status >= 500) {
      const message = serverMessage(result);
      return [{ key: "failure.server", params: { status } }, ...(message ? [{ raw: `(${message})` }] : [])];
    }
    if (status === 400) return [{ key: "failure.badRequest", params: { message: serverMessage(result) || status } }];
    return [{ key: "failure.unexpected", params: { status } }];
  }

  // --- The form ------------------------------------------------------------------

  function readForm() {
    const values = {};
    for (const field of state.config.studentFields) {
      const input = fieldInput(field);
      // The functions store names composed (NFC) and trimmed: check what they will see.
      values[field] = input ? input.value.normalize("NFC").trim() : "";
    }
    return values;
  }

  function setFieldError(field, parts) {
    const input = fieldInput(field);
    const error = fieldError(field);
    if (!input || !error) return false;
    input.setAttribute("aria-invalid", "true");
    showMessage(error, "error", parts);
    return true;
  }

  function clearFieldError(field) {
    const input = fieldInput(field);
    const error = fieldError(field);
    if (input) input.removeAttribute("aria-invalid");
    if (error) clearMessage(error);
  }

  function clearForm() {
    for (const field of state.config?.studentFields ?? []) clearFieldError(field);
    clearMessage(el.formStatus);
  }

  function focusFirstInvalid() {
    const first = el.form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  function setSaving(saving) {
    state.saving = saving;
    el.saveButton.disabled = saving;
    el.form.setAttribute("aria-busy", String(saving));
    setLabel(el.saveButton, saving ? "add.saving" : "add.save");
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (!state.config || state.saving) return;
    clearForm();
    const values = readForm();
    const problems = checkStudent(values);
    if (problems.size) {
      const others = [];
      for (const [field, problem] of problems) {
        if (!setFieldError(field, [problem])) others.push(problem);
      }
      showMessage(el.formStatus, "error", [{ key: "save.checkFields" }, ...others]);
      focusFirstInvalid();
      return;
    }
    setSaving(true);
    const result = await callApi("POST", state.config.api.students, { body: values });
    if (result.stale) return;
    setSaving(false);
    showSaveResult(values, result);
  }

  function showSaveResult(values, result) {
    const { status, data } = result;
    if (status === 201) {
      const student = hasType(data?.student, "object") ? data.student : values;
      const mail = data?.emailSent
        ? [{ key: "save.emailSent", params: { email: student.email } }]
        : [{ key: "save.emailNotSent" }, ...(data?.emailError ? [{ raw: `(${data.emailError})` }] : [])];
      el.form.reset();
      clearForm();
      showMessage(el.formStatus, "success", [
        { key: "save.saved", params: { name: student.name, id: student[KEY_FIELD] } },
        ...mail,
      ]);
      addStudent(student);
      fieldInput(state.config.studentFields[0])?.focus();
      return;
    }
    if (status === 409) {
      const parts = [{ key: "save.duplicate", params: { id: values[KEY_FIELD] } }];
      setFieldError(KEY_FIELD, parts);
      showMessage(el.formStatus, "error", parts);
      focusFirstInvalid();
      return;
    }
    const errors = hasType(data?.errors, "object") ? data.errors : null;
    if (status === 400 && errors) {
      const others = [];
      for (const [field, reason] of Object.entries(errors)) {
        if (!setFieldError(field, [{ reason: String(reason) }])) others.push({ raw: `${field}: ${reason}.` });
      }
      showMessage(el.formStatus, "error", [
        { key: "save.invalid", params: { message: serverMessage(result) || status } },
        ...others,
      ]);
      focusFirstInvalid();
      return;
    }
    showMessage(el.formStatus, "error", [{ key: "save.failed" }, ...describeFailure(result)]);
  }

  // --- The list --------------------------------------------------------------------

  function renderTableHead() {
    el.headRow.replaceChildren(
      ...state.config.studentFields.map((field) => {
        const cell = document.createElement("th");
        cell.scope = "col";
        cell.setAttribute("role", "columnheader");
        cell.textContent = t(`field.${field}`);
        return cell;
      }),
    );
  }

  function studentRow(student) {
    const row = document.createElement("tr");
    row.setAttribute("role", "row");
    row.dataset.studentid = String(student[KEY_FIELD] ?? "");
    const isNew = state.newIds.has(row.dataset.studentid);
    if (isNew) row.classList.add("is-new");
    state.config.studentFields.forEach((field, index) => {
      const cell = document.createElement(index === 0 ? "th" : "td");
      if (index === 0) cell.scope = "row";
      cell.setAttribute("role", index === 0 ? "rowheader" : "cell");
      cell.dataset.field = field;
      cell.dataset.label = t(`field.${field}`);
      const value = document.createElement("span");
      value.className = "cell-value";
      const text = String(student[field] ?? "");
      const at = field === "email" ? text.lastIndexOf("@") : -1;
      if (at > 0) {
        // A narrow screen wraps an address before its domain rather than anywhere.
        for (const piece of [text.slice(0, at), text.slice(at)]) {
          const part = document.createElement("span");
          part.className = "email-part";
          part.textContent = piece;
          value.append(part);
        }
      } else {
        value.textContent = text;
      }
      cell.append(value);
      if (index === 0 && isNew) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = t("list.newRow");
        value.append(" ", badge);
      }
      row.append(cell);
    });
    return row;
  }

  function renderList() {
    const lookingUp = state.mode === "lookup";
    const students = lookingUp ? (state.lookupResult ? [state.lookupResult] : []) : state.students;
    el.rows.replaceChildren(...students.map(studentRow));
    el.table.hidden = students.length === 0;
    el.loading.hidden = !state.loadingList;
    el.tableRegion.setAttribute("aria-busy", String(state.loadingList));
    el.empty.hidden = lookingUp || !state.listLoaded || state.loadingList || students.length > 0;
    el.loadMoreButton.hidden = lookingUp || !state.nextToken;
    el.loadMoreButton.disabled = state.loadingList;
    el.showAllButton.hidden = !lookingUp;
    el.refreshButton.disabled = state.loadingList || !state.config;
    if (lookingUp || !state.listLoaded) {
      el.listCount.textContent = "";
    } else {
      const count = state.students.length;
      const shown = t(count === 1 ? "list.count.one" : "list.count.other", { count });
      el.listCount.textContent = state.nextToken ? `${shown} · ${t("list.more")}` : shown;
    }
  }

  function mergeStudents(students) {
    const known = new Set(state.students.map((student) => String(student[KEY_FIELD])));
    const added = students.filter((student) => !known.has(String(student[KEY_FIELD])));
    state.students.push(...added);
    return added;
  }

  async function loadStudents({ reset }) {
    if (state.loadingList) return;
    state.loadingList = true;
    if (reset) {
      state.mode = "list";
      state.lookupResult = null;
    }
    renderList();
    const query = { limit: String(state.config.pageSize) };
    if (!reset && state.nextToken) query.nextToken = state.nextToken;
    const result = await callApi("GET", state.config.api.students, { query });
    if (result.stale) return;
    state.loadingList = false;
    const page = result.status === 200 && Array.isArray(result.data?.students) ? result.data : null;
    if (!page) {
      showMessage(el.listStatus, "error", [{ key: "list.loadFailed" }, ...describeFailure(result)]);
      renderList();
      return;
    }
    clearMessage(el.listStatus);
    if (reset) {
      state.students = [];
      state.newIds.clear();
    }
    const added = mergeStudents(page.students);
    state.nextToken = typeof page.nextToken === "string" && page.nextToken ? page.nextToken : null;
    state.listLoaded = true;
    renderList();
    if (!reset && added.length) {
      // The button may be gone now: keyboard focus moves on to the first new row.
      const first = el.rows.querySelector(`tr[data-studentid="${CSS.escape(String(added[0][KEY_FIELD]))}"]`);
      if (first) {
        first.tabIndex = -1;
        first.focus();
      }
    }
  }

  function addStudent(student) {
    const id = String(student[KEY_FIELD]);
    state.students = [student, ...state.students.filter((known) => String(known[KEY_FIELD]) !== id)];
    state.newIds.add(id);
    state.listLoaded = true;
    state.mode = "list";
    state.lookupResult = null;
    clearMessage(el.listStatus);
    renderList();
  }

  async function onLookup(event) {
    event.preventDefault();
    if (!state.config || state.loadingList) return;
    const id = el.lookupInput.value.trim();
    el.lookupInput.removeAttribute("aria-invalid");
    clearMessage(el.lookupError);
    const problems = new Map();
    const keySchema = state.config.studentSchema.properties?.[KEY_FIELD];
    if (!id) {
      problems.set(KEY_FIELD, { key: "lookup.empty", params: {} });
    } else if (keySchema) {
      checkSchema(keySchema, id, KEY_FIELD, problems);
    }
    if (problems.size) {
      el.lookupInput.setAttribute("aria-invalid", "true");
      showMessage(el.lookupError, "error", [problems.get(KEY_FIELD)]);
      el.lookupInput.focus();
      return;
    }
    state.loadingList = true;
    renderList();
    const result = await callApi("GET", state.config.api.students, { query: { [KEY_FIELD]: id } });
    if (result.stale) return;
    state.loadingList = false;
    const reason = result.data?.errors?.[KEY_FIELD];
    if (result.status === 200 && hasType(result.data?.student, "object")) {
      state.mode = "lookup";
      state.lookupResult = result.data.student;
      showMessage(el.listStatus, "success", [{ key: "lookup.found", params: { id } }]);
    } else if (result.status === 404) {
      state.mode = "lookup";
      state.lookupResult = null;
      showMessage(el.listStatus, "info", [{ key: "lookup.notFound", params: { id } }]);
    } else if (result.status === 400 && reason) {
      el.lookupInput.setAttribute("aria-invalid", "true");
      showMessage(el.lookupError, "error", [{ reason: String(reason) }]);
    } else {
      showMessage(el.listStatus, "error", [{ key: "lookup.failed" }, ...describeFailure(result)]);
    }
    renderList();
  }

  function showAll() {
    state.mode = "list";
    state.lookupResult = null;
    el.lookupInput.value = "";
    el.lookupInput.removeAttribute("aria-invalid");
    clearMessage(el.lookupError);
    clearMessage(el.listStatus);
    if (state.listLoaded) {
      renderList();
    } else {
      loadStudents({ reset: true });
    }
    el.lookupInput.focus();
  }

  // --- Backup ------------------------------------------------------------------------

  function formatBytes(bytes) {
    const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
    let value = Number(bytes) || 0;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return new Intl.NumberFormat(state.language, {
      style: "unit",
      unit: units[unit],
      unitDisplay: unit === 0 ? "long" : "short",
      maximumFractionDigits: unit === 0 ? 0 : 1,
    }).format(value);
  }

  function formatDate(isoDate) {
    const [year, month, day] = String(isoDate).split("-").map(Number);
    if (!year || !month || !day) return String(isoDate);
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    return new Intl.DateTimeFormat(state.language, { dateStyle: "long", timeZone: "UTC" }).format(date);
  }

  function formatMoment(isoMoment) {
    const moment = new Date(isoMoment);
    if (Number.isNaN(moment.getTime())) return String(isoMoment ?? "");
    return new Intl.DateTimeFormat(state.language, { dateStyle: "medium", timeStyle: "medium" }).format(moment);
  }

  function renderBackup() {
    const backup = state.lastBackup;
    el.backupResult.hidden = !backup;
    if (!backup) return;
    el.backupItems.textContent = formatValue(Number(backup.items) || 0);
    el.backupStarted.textContent = formatMoment(backup.startedAt);
    el.backupEmail.replaceChildren();
    const mail = document.createElement("span");
    mail.className = backup.emailSent ? "pill pill--ok" : "pill pill--warn";
    mail.textContent = t(backup.emailSent ? "backup.emailSent" : "backup.emailNotSent");
    el.backupEmail.append(mail);
    if (!backup.emailSent && backup.emailError) el.backupEmail.append(" ", String(backup.emailError));
    const objects = Array.isArray(backup.objects) ? backup.objects : [];
    el.backupObjects.replaceChildren(
      ...objects.map((object) => {
        const item = document.createElement("li");
        item.className = "objects__item";
        const key = document.createElement("code");
        key.className = "objects__key";
        key.textContent = String(object.key ?? "");
        const size = document.createElement("span");
        size.className = "objects__size";
        size.textContent = formatBytes(object.bytes);
        item.append(key, size);
        return item;
      }),
    );
  }

  function setBackingUp(running) {
    state.backingUp = running;
    el.backupButton.disabled = running;
    el.backupSection.setAttribute("aria-busy", String(running));
    setLabel(el.backupButton, running ? "backup.running" : "backup.button");
  }

  // The backup runs on in the background (POST /backup answers 202 with its run id):
  // the page asks how it is going, soon at first, then every few seconds, for at
  // most as long as the function may run.
  const POLL_FIRST_MS = 500;
  const POLL_EVERY_MS = 2000;
  const POLL_LIMIT_MS = 16 * 60 * 1000;

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // The backup routes answer 403 to anyone outside the admin group: say so, rather
  // than the general "access denied", when the member's token lists no such group.
  function backupFailure(result) {
    if (result.status === 403 && !signedIn?.groups.has(ADMIN_GROUP)) return [{ key: "backup.adminOnly" }];
    return describeFailure(result);
  }

  async function followRun(runId) {
    const deadline = Date.now() + POLL_LIMIT_MS;
    let wait = POLL_FIRST_MS;
    while (Date.now() < deadline) {
      await sleep(wait);
      wait = POLL_EVERY_MS;
      const result = await callApi("GET", state.config.api.backup, { query: { runId } });
      if (result.stale) return { stale: true };
      if (result.status === 200 && hasType(result.data, "object")) {
        if (result.data.state === "done") return { run: result.data };
        if (result.data.state === "failed") {
          const reason = typeof result.data.error === "string" ? result.data.error : "";
          return { failure: reason ? [{ raw: `(${reason})` }] : [] };
        }
        continue;
      }
      // A lost connection, throttling or a server hiccup: the run goes on, ask again.
      if (result.status === 0 || result.status === 429 || result.status >= 500) continue;
      return { failure: backupFailure(result) };
    }
    return { failure: [{ key: "backup.lostTrack" }] };
  }

  async function onBackup() {
    if (!state.config || state.backingUp) return;
    setBackingUp(true);
    state.lastBackup = null;
    renderBackup();
    showMessage(el.backupStatus, "info", [{ key: "backup.running" }]);
    const started = await callApi("POST", state.config.api.backup, { body: {} });
    if (started.stale) return;
    const runId = typeof started.data?.runId === "string" ? started.data.runId : "";
    let outcome;
    if ((started.status === 202 || started.status === 409) && runId) {
      // 409: someone else's backup is running; follow that one rather than start another.
      if (started.status === 409) showMessage(el.backupStatus, "info", [{ key: "backup.alreadyRunning" }]);
      outcome = await followRun(runId);
      if (outcome.stale) return;
    } else {
      outcome = { failure: backupFailure(started) };
    }
    setBackingUp(false);
    if (outcome.run) {
      state.lastBackup = outcome.run;
      const files = Array.isArray(outcome.run.objects) ? outcome.run.objects.length : 0;
      showMessage(el.backupStatus, "success", [
        { key: "backup.done", params: { items: Number(outcome.run.items) || 0, files } },
      ]);
    } else {
      // A member outside the admin group started nothing: no "backup failed" before why.
      const refused = outcome.failure[0]?.key === "backup.adminOnly";
      showMessage(el.backupStatus, "error", refused ? outcome.failure : [{ key: "backup.failed" }, ...outcome.failure]);
    }
    renderBackup();
  }

  // --- Staff sign-in -----------------------------------------------------------------------
  //
  // Tokens are kept in memory only, in `signedIn` below: never in localStorage,
  // sessionStorage or a cookie, so nothing of a sign-in outlives the page (a
  // reload or a closed tab asks for the password again) and no other page of the
  // origin, and no file on disk, ever holds one.

  const COGNITO_TARGET = "AWSCognitoIdentityProviderService.";
  // The staff pool's password policy (modules/staff_directory.py: 14 characters,
  // lower and upper case, a digit, a symbol), stated on the new-password form and
  // checked before the password is sent. Cognito checks it again and has the last word.
  const PASSWORD_POLICY = { minLength: 14 };
  // Cognito's symbols; a space counts as one when it is neither first nor last.
  const SYMBOL = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+-]/u;
  const PASSWORD_RULES = [
    { key: "policy.length", met: (text) => [...text].length >= PASSWORD_POLICY.minLength },
    { key: "policy.lowercase", met: (text) => /[a-z]/.test(text) },
    { key: "policy.uppercase", met: (text) => /[A-Z]/.test(text) },
    { key: "policy.digit", met: (text) => /[0-9]/.test(text) },
    { key: "policy.symbol", met: (text) => SYMBOL.test(text) || text.slice(1, -1).includes(" ") },
  ];
  // The group whose members may run backups (lambdas/common/names.py ADMIN_GROUP).
  const ADMIN_GROUP = "admin";
  // The ID token is renewed this long before it expires...
  const REFRESH_MARGIN_MS = 60 * 1000;
  // ...an API call made closer to its expiry than this renews it first...
  const EXPIRY_SLACK_MS = 10 * 1000;
  // ...and a renewal that could not reach Cognito is tried again after this long.
  const REFRESH_RETRY_MS = 15 * 1000;
  // Cognito's answers that say "not now" rather than "no".
  const TRANSIENT = new Set(["TooManyRequestsException", "LimitExceededException", "InternalErrorException"]);

  // The signed-in member: {email, groups, idToken, accessToken, refreshToken,
  // expiresAt (by this browser's clock), timer, refreshing}; null when signed out.
  let signedIn = null;
  // A sign-in waiting for its next step: {name, session, username}.
  let pending = null;
  let authBusy = false;

  async function cognito(operation, body) {
    let response;
    try {
      response = await fetch(state.config.auth.endpoint, {
        method: "POST",
        cache: "no-store",
        credentials: "omit",
        headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": COGNITO_TARGET + operation },
        body: JSON.stringify(body),
      });
    } catch {
      return { ok: false, status: 0, type: "", message: "" };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      // An empty or non-JSON answer: its status says enough.
    }
    if (response.ok) return { ok: true, status: response.status, data: hasType(data, "object") ? data : {} };
    // "__type" may carry a namespace: "com.amazonaws.cognito...#NotAuthorizedException".
    const type = typeof data?.__type === "string" ? data.__type.split("#").pop() : "";
    const message = [data?.message, data?.Message].find((text) => typeof text === "string") ?? "";
    return { ok: false, status: response.status, type, message };
  }

  // Why Cognito said no, in the member's words. A wrong password and an unknown
  // address read alike, so the form never tells a stranger who is on the staff.
  function authFailure(answer) {
    if (answer.status === 0) return [{ key: "auth.network" }];
    switch (answer.type) {
      case "NotAuthorizedException":
        if (/disabled/i.test(answer.message)) return [{ key: "auth.locked" }];
        if (/attempts exceeded/i.test(answer.message)) return [{ key: "auth.attempts" }];
        if (/temporary password has expired/i.test(answer.message)) return [{ key: "auth.temporaryExpired" }];
        if (/session/i.test(answer.message)) return [{ key: "auth.challengeExpired" }];
        return [{ key: "auth.wrongPassword" }];
      case "UserNotFoundException":
        return [{ key: "auth.wrongPassword" }];
      case "PasswordResetRequiredException":
        return [{ key: "auth.mustReset" }];
      case "UserNotConfirmedException":
        return [{ key: "auth.notConfirmed" }];
      case "TooManyRequestsException":
      case "LimitExceededException":
      case "TooManyFailedAttemptsException":
        return [{ key: "auth.throttled" }];
      case "InvalidPasswordException":
        return [{ key: "auth.invalidPassword" }, ...(answer.message ? [{ raw: `(${answer.message})` }] : [])];
      case "CodeMismatchException":
        return [{ key: "mfa.mismatch" }];
      case "ExpiredCodeException":
        return [{ key: "auth.challengeExpired" }];
      default:
        if (answer.status >= 500) return [{ key: "auth.unavailable", params: { status: answer.status } }];
        return [{ key: "auth.failed", params: { reason: answer.type || answer.status } }];
    }
  }

  // The claims of a JWT: its middle part, base64url-decoded. Nothing is verified
  // here (the API's authorizer verifies every token); the page only reads when its
  // token expires, who is signed in and their groups.
  function tokenClaims(token) {
    const part = String(token).split(".")[1] ?? "";
    try {
      const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return hasType(claims, "object") ? claims : null;
    } catch {
      return null;
    }
  }

  function acceptTokens(result) {
    const claims = tokenClaims(result.IdToken) ?? {};
    // The token's lifetime (exp - iat), counted from now: a browser whose clock is
    // off still renews on time.
    const lifetime =
      Number.isFinite(claims.exp) && Number.isFinite(claims.iat)
        ? (claims.exp - claims.iat) * 1000
        : (Number(result.ExpiresIn) || 0) * 1000;
    signedIn.idToken = result.IdToken;
    if (typeof result.AccessToken === "string") signedIn.accessToken = result.AccessToken;
    // A refresh answers without a refresh token: the sign-in's own stays.
    if (typeof result.RefreshToken === "string") signedIn.refreshToken = result.RefreshToken;
    signedIn.expiresAt = Date.now() + lifetime;
    if (typeof claims.email === "string") signedIn.email = claims.email;
    const groups = claims["cognito:groups"];
    signedIn.groups = new Set(Array.isArray(groups) ? groups.map(String) : []);
    scheduleRefresh(signedIn.expiresAt - REFRESH_MARGIN_MS - Date.now());
  }

  function scheduleRefresh(delay) {
    clearTimeout(signedIn.timer);
    signedIn.timer = setTimeout(refreshTokens, Math.max(1000, delay));
  }

  // Renews the ID and access tokens with the refresh token; true when it did. One
  // renewal at a time: calls made meanwhile wait for it.
  function refreshTokens() {
    const current = signedIn;
    if (!current) return Promise.resolve(false);
    current.refreshing ??= renew(current).finally(() => {
      current.refreshing = null;
    });
    return current.refreshing;
  }

  async function renew(current) {
    const answer = await cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: state.config.auth.clientId,
      AuthParameters: { REFRESH_TOKEN: current.refreshToken },
    });
    if (signedIn !== current) return false;
    const result = answer.ok ? answer.data.AuthenticationResult : null;
    if (hasType(result, "object") && typeof result.IdToken === "string") {
      acceptTokens(result);
      return true;
    }
    if (answer.status === 0 || answer.status >= 500 || TRANSIENT.has(answer.type)) {
      // Cognito could not be asked: the sign-in may still be good, ask again soon.
      scheduleRefresh(REFRESH_RETRY_MS);
      return false;
    }
    // Cognito refused the refresh token (expired, revoked, or the member disabled).
    endSession("error", [{ key: "auth.expired" }]);
    return false;
  }

  function startSession(result, email) {
    pending = null;
    signedIn = { email, groups: new Set(), idToken: "", accessToken: "", refreshToken: "", expiresAt: 0 };
    acceptTokens(result);
    clearMessage(el.authStatus);
    resetWorkspace();
    renderSession();
    el.main.focus();
    loadStudents({ reset: true });
  }

  // Forgets the sign-in and everything it showed, and brings the sign-in form back.
  function endSession(tone, parts) {
    if (signedIn) clearTimeout(signedIn.timer);
    signedIn = null;
    pending = null;
    resetWorkspace();
    renderSession();
    showAuthStep("sign-in");
    showMessage(el.authStatus, tone, parts);
    el.signInEmail.focus();
  }

  // Signing out revokes the refresh token, so it issues no more tokens; where that
  // cannot be done, GlobalSignOut ends every sign-in of the member instead, rather
  // than leave this one alive. The page forgets its tokens first, whatever Cognito says.
  async function onSignOut() {
    const ending = signedIn;
    if (!ending) return;
    endSession("info", [{ key: "auth.signingOut" }]);
    const clientId = state.config.auth.clientId;
    const revoked = await cognito("RevokeToken", { Token: ending.refreshToken, ClientId: clientId });
    const ended = revoked.ok || (await cognito("GlobalSignOut", { AccessToken: ending.accessToken })).ok;
    // Signed in again meanwhile: that sign-in's screen is not this one's to change.
    if (signedIn || pending) return;
    showMessage(el.authStatus, ended ? "success" : "error", [
      { key: ended ? "auth.signedOut" : "auth.signedOutLocally" },
    ]);
  }

  function renderSession() {
    const on = Boolean(signedIn);
    document.body.dataset.session = on ? "signed-in" : "signed-out";
    el.session.hidden = !on;
    el.sessionEmail.textContent = on ? signedIn.email : "";
    el.authSection.hidden = on;
    el.workspace.hidden = !on;
    for (const control of [el.fieldset, el.lookupInput, el.lookupButton, el.backupButton]) control.disabled = !on;
    renderList();
  }

  // Everything a sign-in showed goes with it: the list, a look-up, the form, a backup's report.
  function resetWorkspace() {
    Object.assign(state, {
      students: [],
      listLoaded: false,
      nextToken: null,
      mode: "list",
      lookupResult: null,
      loadingList: false,
      lastBackup: null,
    });
    state.newIds.clear();
    el.form.reset();
    el.lookupInput.value = "";
    el.lookupInput.removeAttribute("aria-invalid");
    for (const element of [el.lookupError, el.listStatus, el.backupStatus]) clearMessage(element);
    setSaving(false);
    setBackingUp(false);
    renderList();
    renderBackup();
  }

  function renderPasswordRules() {
    const text = el.newPassword.value;
    el.passwordRules.replaceChildren(
      ...PASSWORD_RULES.map((rule) => {
        const item = document.createElement("li");
        const met = rule.met(text);
        item.className = "policy__rule";
        item.dataset.rule = rule.key.split(".")[1];
        item.dataset.met = String(met);
        const words = document.createElement("span");
        words.textContent = t(rule.key, { min: PASSWORD_POLICY.minLength });
        // What the tick or cross says, for screen readers.
        const verdict = document.createElement("span");
        verdict.className = "visually-hidden";
        verdict.textContent = ` (${t(met ? "policy.met" : "policy.unmet")})`;
        item.append(words, verdict);
        return item;
      }),
    );
  }

  function markInvalid(input, parts) {
    input.setAttribute("aria-invalid", "true");
    showMessage(byId(`${input.id}-error`), "error", parts);
  }

  function clearInvalid(input) {
    input.removeAttribute("aria-invalid");
    const error = byId(`${input.id}-error`);
    if (error) clearMessage(error);
  }

  const AUTH_INPUTS = () => [el.signInEmail, el.signInPassword, el.newPassword, el.newPasswordAgain, el.mfaCode];

  // One step of signing in at a time: "sign-in", "new-password" or "mfa".
  function showAuthStep(step) {
    el.signInForm.hidden = step !== "sign-in";
    el.newPasswordForm.hidden = step !== "new-password";
    el.mfaForm.hidden = step !== "mfa";
    for (const input of AUTH_INPUTS()) {
      clearInvalid(input);
      if (input !== el.signInEmail) input.value = "";
    }
    el.newPasswordAccount.value = pending?.username ?? "";
    renderPasswordRules();
  }

  function setAuthBusy(button, busyKey, idleKey, busy) {
    authBusy = busy;
    button.disabled = busy;
    button.closest("form").setAttribute("aria-busy", String(busy));
    setLabel(button, busy ? busyKey : idleKey);
  }

  // What Cognito answered to a sign-in or one of its steps: tokens, or the next step.
  function proceed(answer, username) {
    const result = answer.data.AuthenticationResult;
    if (hasType(result, "object") && typeof result.IdToken === "string") {
      startSession(result, username);
      return;
    }
    const name = String(answer.data.ChallengeName ?? "");
    pending = { name, session: String(answer.data.Session ?? ""), username };
    if (name === "NEW_PASSWORD_REQUIRED" || name === "SOFTWARE_TOKEN_MFA") {
      clearMessage(el.authStatus);
      showAuthStep(name === "NEW_PASSWORD_REQUIRED" ? "new-password" : "mfa");
      (name === "NEW_PASSWORD_REQUIRED" ? el.newPassword : el.mfaCode).focus();
      return;
    }
    pending = null;
    showAuthStep("sign-in");
    showMessage(el.authStatus, "error", [{ key: "auth.unsupportedChallenge", params: { challenge: name || "?" } }]);
  }

  // A step that failed for good (its session expired, say): back to the start, saying why.
  function restartSignIn(answer) {
    pending = null;
    showAuthStep("sign-in");
    showMessage(el.authStatus, "error", authFailure(answer));
    el.signInPassword.focus();
  }

  async function onSignIn(event) {
    event.preventDefault();
    if (!state.config || authBusy || signedIn) return;
    clearMessage(el.authStatus);
    const email = el.signInEmail.value.trim();
    const password = el.signInPassword.value;
    for (const input of [el.signInEmail, el.signInPassword]) clearInvalid(input);
    const empty = [el.signInEmail, el.signInPassword].filter((input) => !input.value.trim());
    if (empty.length) {
      for (const input of empty) markInvalid(input, [{ key: "error.required" }]);
      empty[0].focus();
      return;
    }
    setAuthBusy(el.signInButton, "auth.submitting", "auth.submit", true);
    const answer = await cognito("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: state.config.auth.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    setAuthBusy(el.signInButton, "auth.submitting", "auth.submit", false);
    el.signInPassword.value = "";
    if (answer.ok) {
      proceed(answer, email);
      return;
    }
    showMessage(el.authStatus, "error", authFailure(answer));
    el.signInPassword.focus();
  }

  async function onNewPassword(event) {
    event.preventDefault();
    if (!pending || authBusy) return;
    const password = el.newPassword.value;
    for (const input of [el.newPassword, el.newPasswordAgain]) clearInvalid(input);
    if (!password) {
      markInvalid(el.newPassword, [{ key: "error.required" }]);
    } else if (PASSWORD_RULES.some((rule) => !rule.met(password))) {
      markInvalid(el.newPassword, [{ key: "newPassword.weak" }]);
    } else if (password !== password.trim()) {
      markInvalid(el.newPassword, [{ key: "newPassword.spaces" }]);
    } else if (el.newPasswordAgain.value !== password) {
      markInvalid(el.newPasswordAgain, [{ key: "newPassword.mismatch" }]);
    }
    const invalid = el.newPasswordForm.querySelector('[aria-invalid="true"]');
    if (invalid) {
      invalid.focus();
      return;
    }
    setAuthBusy(el.newPasswordButton, "auth.submitting", "newPassword.submit", true);
    const answer = await cognito("RespondToAuthChallenge", {
      ClientId: state.config.auth.clientId,
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.username, NEW_PASSWORD: password },
    });
    setAuthBusy(el.newPasswordButton, "auth.submitting", "newPassword.submit", false);
    if (answer.ok) {
      proceed(answer, pending.username);
    } else if (answer.type === "InvalidPasswordException" || answer.status === 0 || TRANSIENT.has(answer.type)) {
      // The same step may be tried again: keep the form (the passwords are typed again).
      for (const input of [el.newPassword, el.newPasswordAgain]) input.value = "";
      renderPasswordRules();
      markInvalid(el.newPassword, authFailure(answer));
      el.newPassword.focus();
    } else {
      restartSignIn(answer);
    }
  }

  async function onMfa(event) {
    event.preventDefault();
    if (!pending || authBusy) return;
    const code = el.mfaCode.value.trim();
    clearInvalid(el.mfaCode);
    if (!/^[0-9]{6}$/.test(code)) {
      markInvalid(el.mfaCode, [{ key: "mfa.format" }]);
      el.mfaCode.focus();
      return;
    }
    setAuthBusy(el.mfaButton, "auth.submitting", "mfa.submit", true);
    const answer = await cognito("RespondToAuthChallenge", {
      ClientId: state.config.auth.clientId,
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.username, SOFTWARE_TOKEN_MFA_CODE: code },
    });
    setAuthBusy(el.mfaButton, "auth.submitting", "mfa.submit", false);
    if (answer.ok) {
      proceed(answer, pending.username);
    } else if (answer.type === "CodeMismatchException" || answer.status === 0 || TRANSIENT.has(answer.type)) {
      el.mfaCode.value = "";
      markInvalid(el.mfaCode, authFailure(answer));
      el.mfaCode.focus();
    } else {
      restartSignIn(answer);
    }
  }

  function cancelSignIn() {
    pending = null;
    showAuthStep("sign-in");
    clearMessage(el.authStatus);
    el.signInEmail.focus();
  }

  // --- Start -----------------------------------------------------------------------------

  function wireEvents() {
    el.language.addEventListener("change", () => chooseLanguage(el.language.value));
    el.form.addEventListener("submit", onSubmit);
    el.form.addEventListener("reset", () => clearForm());
    el.form.addEventListener("input", (event) => {
      const field = event.target?.name;
      if (field && event.target.getAttribute("aria-invalid") === "true") clearFieldError(field);
    });
    el.lookupForm.addEventListener("submit", onLookup);
    el.showAllButton.addEventListener("click", showAll);
    el.refreshButton.addEventListener("click", () => {
      clearMessage(el.listStatus);
      loadStudents({ reset: true });
    });
    el.loadMoreButton.addEventListener("click", () => loadStudents({ reset: false }));
    el.backupButton.addEventListener("click", onBackup);
    el.signInForm.addEventListener("submit", onSignIn);
    el.newPasswordForm.addEventListener("submit", onNewPassword);
    el.mfaForm.addEventListener("submit", onMfa);
    for (const button of document.querySelectorAll(".auth__cancel")) button.addEventListener("click", cancelSignIn);
    el.newPassword.addEventListener("input", renderPasswordRules);
    for (const input of AUTH_INPUTS()) {
      input.addEventListener("input", () => {
        if (input.getAttribute("aria-invalid") === "true") clearInvalid(input);
      });
    }
    el.signOutButton.addEventListener("click", onSignOut);
  }

  async function start() {
    wireEvents();
    applyLanguage(initialLanguage());
    renderSession();
    showMessage(el.authStatus, "info", [{ key: "config.loading" }]);
    try {
      state.config = await loadConfig();
    } catch {
      showMessage(el.authStatus, "error", [{ key: "config.failed" }]);
      return;
    }
    clearMessage(el.authStatus);
    configureForm();
    applyLanguage(state.language);
    el.signInFieldset.disabled = false;
    document.body.dataset.ready = "true";
  }

  start();
})();
