//! Server-rendered pages: sign-in, a home page per role, the division browser, the map, bodies with their
//! staff and evidence, and the transparency page.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gridward_app::AppError;
use gridward_app::auth::Authenticated;
use gridward_domain::division::{DivisionCode, Level};
use gridward_domain::org::{BodyKind, EnforcementDomain, Staff, Standing};
use gridward_store::Page;
use serde::Deserialize;

use crate::AppState;
use crate::access::{
    Caller, LANG_COOKIE, LOGIN_CSRF_COOKIE, MaybeSignedIn, SESSION_COOKIE, SignedIn, cookie, same_secret, urlencode,
};
use crate::api::{PageQuery, encode_cursor};
use crate::evidence::EvidenceSection;
use crate::i18n::{Lang, t};

/// The signed-in user as the top bar shows them.
pub struct UserChip {
    pub username: String,
    pub display_name: String,
    pub roles: String,
}

/// What every page's frame needs: language, user, CSRF token.
pub struct Chrome {
    pub lang: Lang,
    pub html_lang: &'static str,
    pub other_lang: &'static str,
    pub user: Option<UserChip>,
    pub csrf: String,
}

impl Chrome {
    pub fn new(headers: &HeaderMap, auth: Option<&Authenticated>) -> Chrome {
        let lang = cookie(headers, LANG_COOKIE).and_then(Lang::parse).unwrap_or(Lang::Zh);
        Chrome {
            lang,
            html_lang: lang.html_lang(),
            other_lang: lang.other().code(),
            user: auth.map(|a| UserChip {
                username: a.principal.username.clone(),
                display_name: a.principal.display_name.clone(),
                roles: a.principal.roles.iter().map(|r| t(lang, &format!("role.{r}"))).collect::<Vec<_>>().join("、"),
            }),
            csrf: auth.map(|a| a.csrf_token.clone()).unwrap_or_default(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        t(self.lang, key)
    }
}

pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    code: &'static str,
    message: String,
}

/// The sentence for an error in the page's language, or its own wording when the catalog has none.
pub(crate) fn error_message(chrome: &Chrome, e: &AppError) -> String {
    let key = format!("error.{}", e.code());
    match chrome.t(&key) {
        m if m == key => e.to_string(),
        m => match e {
            AppError::Unlawful { article, .. } => format!("{m}（{article}）"),
            _ => m,
        },
    }
}

pub(crate) fn error_response(chrome: Chrome, e: AppError) -> Response {
    if let AppError::Internal(detail) = &e {
        tracing::error!(%detail, "internal error");
    }
    let message = crate::pages::error_message(&chrome, &e);
    render(crate::error::status_of(&e), &ErrorPage { code: e.code(), message, chrome })
}

/// An error as a page, for browsers.
pub fn error_page(req: &Request, caller: &Caller, e: AppError) -> Response {
    error_response(Chrome::new(req.headers(), caller.auth.as_ref()), e)
}

/// Wraps a page handler's result so errors render as pages, not JSON.
pub(crate) fn page_result(headers: &HeaderMap, auth: Option<&Authenticated>, result: Result<Response, AppError>) -> Response {
    result.unwrap_or_else(|e| error_response(Chrome::new(headers, auth), e))
}

// Sign-in.

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    error: Option<String>,
    next: String,
    username: String,
    demo: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths may be redirected to after sign-in.
fn safe_next(next: Option<&str>) -> String {
    // A local path: one leading slash, then only characters that cannot turn it into another host once a
    // browser strips whitespace or reads a backslash as a slash.
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~?=&%+".contains(c);
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.chars().all(allowed) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<String>,
    next: String,
    username: String,
) -> Response {
    // A fresh double-submit token per form: the cookie and the hidden field must match on submit.
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut chrome = Chrome::new(headers, None);
    chrome.csrf = token.clone();
    let mut response = render(status, &LoginPage { chrome, error, next, username, demo: state.demo });
    let cookie =
        format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}", state.cookie_suffix());
    if let Ok(v) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSignedIn(auth): MaybeSignedIn,
    Query(q): Query<NextQuery>,
) -> Response {
    if auth.is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(&state, &headers, StatusCode::OK, None, safe_next(q.next.as_deref()), String::new())
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn login_submit(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    let lang = Chrome::new(&headers, None).lang;
    if form.csrf.is_empty() || !cookie(&headers, LOGIN_CSRF_COOKIE).is_some_and(|c| same_secret(c, &form.csrf)) {
        return login_page(&state, &headers, StatusCode::BAD_REQUEST, Some(t(lang, "error.csrf")), next, form.username);
    }
    match state.app.sign_in(form.username.trim(), &form.password).await {
        Ok(session) => {
            let max_age = session.expires_at - gridward_app::now();
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
                session.token,
                state.cookie_suffix()
            );
            let mut response = Redirect::to(&next).into_response();
            if let Ok(v) = cookie.parse() {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            login_page(&state, &headers, status, Some(t(lang, &format!("error.{}", e.code()))), next, form.username)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same_secret(&form.csrf, &auth.csrf_token) {
        return error_response(Chrome::new(&headers, Some(&auth)), AppError::bad_request("csrf", "stale form"));
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.app.sign_out(token).await
    {
        return error_response(Chrome::new(&headers, Some(&auth)), e);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0").parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn switch_language(headers: HeaderMap, Path(lang): Path<String>) -> Response {
    let lang = Lang::parse(&lang).unwrap_or(Lang::Zh);
    // Go back where the user was, if that was a page of this site.
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    let mut response = Redirect::to(&safe_next(back.as_deref())).into_response();
    if let Ok(v) = format!("{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000", lang.code()).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

// Home.

struct BodyView {
    code: String,
    name: String,
    kind: String,
    division: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    display_name: String,
    scope_name: String,
    scope_code: String,
    role_cards: Vec<(String, String)>,
    bodies: Vec<BodyView>,
}

pub(crate) fn kind_label(lang: Lang, kind: BodyKind) -> String {
    match lang {
        Lang::Zh => kind.zh().to_string(),
        Lang::En => kind.as_str().replace('_', " "),
    }
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap, SignedIn(auth): SignedIn) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let p = &auth.principal;
        let scope = state.app.division_detail(p, &p.scope).await?;
        let bodies = state.app.bodies(p, &Page { after: None, limit: 50 }).await?;
        let role_cards = p.roles.iter().map(|r| (chrome.t(&format!("role.{r}")), chrome.t(&format!("home.{r}")))).collect();
        let bodies = bodies
            .items
            .into_iter()
            .map(|b| BodyView {
                code: b.code,
                name: b.name,
                kind: kind_label(chrome.lang, b.kind),
                division: b.division_code.to_string(),
            })
            .collect();
        Ok(render(
            StatusCode::OK,
            &HomePage {
                display_name: p.display_name.clone(),
                scope_name: scope.division.name,
                scope_code: p.scope.to_string(),
                role_cards,
                bodies,
                chrome,
            },
        ))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

// Bodies.

struct StaffView {
    staff_no: String,
    name: String,
    roles: String,
    credential: String,
    valid_to: Option<String>,
    state: String,
    state_class: &'static str,
    auxiliary: bool,
    active: bool,
}

#[derive(Template)]
#[template(path = "body.html")]
struct BodyPage {
    chrome: Chrome,
    code: String,
    name: String,
    kind: String,
    division: String,
    division_name: String,
    parent: Option<String>,
    domains: Vec<String>,
    /// `None` when the caller's role may not see staff lists.
    staff: Option<Vec<StaffView>>,
    /// `None` when the caller may not read the body's evidence.
    evidence: Option<EvidenceSection>,
    /// Powers held today, and in how many categories (the responsibility list).
    responsibilities: usize,
    categories: usize,
}

/// What the body page reports about the last upload: the evidence id just taken, or why it was refused.
pub(crate) enum BodyNotice {
    Added(String),
    Failed(String),
}

#[derive(Deserialize)]
pub struct BodyQuery {
    /// The evidence just uploaded (after the upload form's redirect).
    added: Option<String>,
}

pub(crate) fn domain_label(lang: Lang, d: EnforcementDomain) -> String {
    match lang {
        Lang::Zh => d.zh().to_string(),
        Lang::En => d.as_str().replace('_', " "),
    }
}

fn staff_view(chrome: &Chrome, s: Staff, today: gridward_domain::Date) -> StaffView {
    let standing = s.credential.as_ref().map(|c| c.standing(today));
    let (state, state_class) = match standing {
        Some(Standing::Good) => (chrome.t("staff.valid"), "due-ok"),
        Some(Standing::DueSoon) => (chrome.t("staff.expiring"), "due-soon"),
        Some(Standing::Lapsed) => (chrome.t("staff.expired"), "due-over"),
        None => (String::new(), ""),
    };
    StaffView {
        roles: s.roles.iter().map(|r| chrome.t(&format!("role.{r}"))).collect::<Vec<_>>().join("、"),
        credential: s.credential.as_ref().map_or_else(|| chrome.t("staff.none"), |c| c.number.clone()),
        valid_to: s.credential.as_ref().map(|c| c.valid_to.to_string()),
        staff_no: s.staff_no,
        name: s.name,
        state,
        state_class,
        auxiliary: s.auxiliary,
        active: s.active,
    }
}

pub async fn body_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<BodyQuery>,
) -> Response {
    let notice = q.added.map(BodyNotice::Added);
    let result = body_page_response(&state, &headers, &auth, &code, notice, StatusCode::OK).await;
    page_result(&headers, Some(&auth), result)
}

/// The body page with `status`, reporting `notice` in its evidence section.
pub(crate) async fn body_page_response(
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authenticated,
    code: &str,
    notice: Option<BodyNotice>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let chrome = Chrome::new(headers, Some(auth));
    let p = &auth.principal;
    let body = state.app.body(p, code).await?;
    let division = state.app.division_detail(p, &body.division_code).await?.division;
    let today = gridward_app::today();
    let staff = match state.app.staff_of_body(p, code, &Page { after: None, limit: 500 }).await {
        Ok(listing) => Some(listing.items.into_iter().map(|s| staff_view(&chrome, s, today)).collect()),
        Err(AppError::Forbidden) => None,
        Err(e) => return Err(e),
    };
    let upload_action = format!("/bodies/{}/evidence", urlencode(code));
    let evidence = EvidenceSection::load(state, &chrome, p, "body", code, upload_action, notice.as_ref()).await?;
    let list = state.app.responsibility_list(code, today).await?;
    Ok(render(
        status,
        &BodyPage {
            kind: kind_label(chrome.lang, body.kind),
            domains: body.domains.iter().map(|d| domain_label(chrome.lang, *d)).collect(),
            code: body.code,
            name: body.name,
            division: body.division_code.to_string(),
            division_name: division.name,
            parent: body.parent_code,
            staff,
            evidence,
            responsibilities: list.items.len(),
            categories: list.categories.len(),
            chrome,
        },
    ))
}

// Division browser.

#[derive(Template)]
#[template(path = "divisions.html")]
struct DivisionPage {
    chrome: Chrome,
    code: String,
    name: String,
    level: String,
    historic: bool,
    validity: String,
    has_boundary: bool,
    boundary_synthetic: bool,
    /// (code, name), city first.
    ancestors: Vec<(String, String)>,
    /// (code, name, level label, historic).
    children: Vec<(String, String, String, bool)>,
    next_cursor: Option<String>,
}

fn level_label(chrome: &Chrome, level: Level) -> String {
    chrome.t(&format!("level.{level}"))
}

pub async fn divisions_root(SignedIn(auth): SignedIn) -> Response {
    Redirect::to(&format!("/divisions/{}", crate::city_of(&auth.principal.scope))).into_response()
}

pub async fn division_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    Query(page): Query<PageQuery>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let code = DivisionCode::parse(&code).map_err(|e| AppError::bad_request("bad_code", e.to_string()))?;
        let page = page.page().map_err(|e| e.0)?;
        let page = Page { limit: 200, ..page };
        let detail = state.app.division_detail(&auth.principal, &code).await?;
        let children = state.app.child_divisions(&auth.principal, &code, &page).await?;
        let today = gridward_app::today();
        let d = &detail.division;
        let validity = match (d.valid_from, d.valid_to) {
            (None, None) => chrome.t("division.always"),
            (from, to) => {
                format!("{} – {}", from.map_or("…".to_string(), |x| x.to_string()), to.map_or("…".to_string(), |x| x.to_string()))
            }
        };
        Ok(render(
            StatusCode::OK,
            &DivisionPage {
                code: d.code.to_string(),
                name: d.name.clone(),
                level: level_label(&chrome, d.level),
                historic: !d.is_valid_on(today),
                validity,
                has_boundary: detail.boundary_synthetic.is_some(),
                boundary_synthetic: detail.boundary_synthetic == Some(true),
                ancestors: detail.ancestors.iter().rev().map(|a| (a.code.to_string(), a.name.clone())).collect(),
                children: children
                    .items
                    .iter()
                    .map(|c| (c.code.to_string(), c.name.clone(), level_label(&chrome, c.level), !c.is_valid_on(today)))
                    .collect(),
                next_cursor: children.next_cursor.as_deref().map(encode_cursor),
                chrome,
            },
        ))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

// Map.

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    chrome: Chrome,
    root: String,
}

pub async fn map_page(headers: HeaderMap, SignedIn(auth): SignedIn) -> Response {
    let root = crate::city_of(&auth.principal.scope).to_string();
    render(StatusCode::OK, &MapPage { chrome: Chrome::new(&headers, Some(&auth)), root })
}

// Transparency.

struct CheckpointView {
    size: u64,
    algorithm: &'static str,
    root: String,
    signed_at: String,
    signature: String,
    signed_text: String,
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    chrome: Chrome,
    latest: Option<CheckpointView>,
    key: Option<gridward_app::record::PublishedKey>,
    /// "signer: size @ time" for each witness cosignature.
    witnesses: Vec<String>,
}

/// A Unix time as a Beijing-time wall clock, for people.
pub(crate) fn beijing_time(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .ok()
        .and_then(|t| {
            jiff::tz::TimeZone::get("Asia/Shanghai").ok().map(|tz| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S %Z").to_string())
        })
        .unwrap_or_else(|| unix.to_string())
}

pub async fn transparency(State(state): State<AppState>, headers: HeaderMap, MaybeSignedIn(auth): MaybeSignedIn) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, auth.as_ref());
        let key = state.app.published_key().ok();
        let latest = state.app.latest_checkpoint().await.ok().flatten().map(|c| CheckpointView {
            size: c.checkpoint.head.size,
            algorithm: c.checkpoint.head.algorithm.as_str(),
            root: c.checkpoint.head.root.to_hex(),
            signed_at: beijing_time(c.checkpoint.signed_at),
            signature: c.signature.signature.clone(),
            signed_text: c.checkpoint.signed_text(&c.origin),
        });
        let witnesses = state
            .app
            .witness_cosignatures()
            .await?
            .into_iter()
            .map(|c| format!("{}: {} @ {}", c.signature.signer, c.checkpoint.head.size, beijing_time(c.checkpoint.signed_at)))
            .collect();
        Ok(render(StatusCode::OK, &TransparencyPage { chrome, latest, key, witnesses }))
    }
    .await;
    page_result(&headers, auth.as_ref(), result)
}

pub async fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        return crate::error::ApiError(AppError::NotFound("route")).into_response();
    }
    error_response(Chrome::new(req.headers(), None), AppError::NotFound("page"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/map")), "/map");
        assert_eq!(safe_next(Some("/divisions/320613000000?cursor=abc")), "/divisions/320613000000?cursor=abc");
        for hostile in ["//evil.com", "/\\evil.com", "/\t/evil.com", "/\n", "https://evil.com", "evil", "/%09/x\r"] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
