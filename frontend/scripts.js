// The student management page: add students, list and find them, start a backup.
//
// Everything the page must know about the API comes from /config.json at run
// time: the paths on this origin, the JSON schema the API validates new
// students with, the earliest birthdate and the page size. The form is checked
// against that schema, so the page and the API cannot disagree about what a
// valid student is. No key, host name or absolute URL is ever written here.
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

  async function callApi(method, path, { query, body } = {}) {
    const url = query ? `${path}?${new URLSearchParams(query)}` : path;
    const init = { method, cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } };
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

  async function followRun(runId) {
    const deadline = Date.now() + POLL_LIMIT_MS;
    let wait = POLL_FIRST_MS;
    while (Date.now() < deadline) {
      await sleep(wait);
      wait = POLL_EVERY_MS;
      const result = await callApi("GET", state.config.api.backup, { query: { runId } });
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
      return { failure: describeFailure(result) };
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
    const runId = typeof started.data?.runId === "string" ? started.data.runId : "";
    let outcome;
    if ((started.status === 202 || started.status === 409) && runId) {
      // 409: someone else's backup is running; follow that one rather than start another.
      if (started.status === 409) showMessage(el.backupStatus, "info", [{ key: "backup.alreadyRunning" }]);
      outcome = await followRun(runId);
    } else {
      outcome = { failure: describeFailure(started) };
    }
    setBackingUp(false);
    if (outcome.run) {
      state.lastBackup = outcome.run;
      const files = Array.isArray(outcome.run.objects) ? outcome.run.objects.length : 0;
      showMessage(el.backupStatus, "success", [
        { key: "backup.done", params: { items: Number(outcome.run.items) || 0, files } },
      ]);
    } else {
      showMessage(el.backupStatus, "error", [{ key: "backup.failed" }, ...outcome.failure]);
    }
    renderBackup();
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
  }

  async function start() {
    wireEvents();
    applyLanguage(initialLanguage());
    showMessage(el.formStatus, "info", [{ key: "config.loading" }]);
    try {
      state.config = await loadConfig();
    } catch {
      showMessage(el.formStatus, "error", [{ key: "config.failed" }]);
      el.loading.hidden = true;
      el.tableRegion.setAttribute("aria-busy", "false");
      return;
    }
    clearMessage(el.formStatus);
    configureForm();
    applyLanguage(state.language);
    el.fieldset.disabled = false;
    el.lookupInput.disabled = false;
    el.lookupButton.disabled = false;
    el.backupButton.disabled = false;
    document.body.dataset.ready = "true";
    await loadStudents({ reset: true });
  }

  start();
})();
