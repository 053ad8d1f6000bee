//! Every command the UI may call: each forwards to `ggzy_app::App`, which
//! checks the session and role, and passes the outcome back through
//! `App::named`, so a database failure names its file.

use ggzy_app::actions::{Action, ActionDone};
use ggzy_app::admin::{
    CenterSettings, Limits, NewStaffUser, StaffUser, StaffUserChange, YearExceptions,
};
use ggzy_app::audit::{AnchorSent, AnchorSettings, AuditHead, AuditProgress, AuditReport};
use ggzy_app::channels::{ChannelSettings, DispatchConfig, SecretState, SecretValue};
use ggzy_app::complaints::{Assignable, ComplaintDetail, ComplaintForm, ComplaintItem};
use ggzy_app::conflicts::{ConflictItem, ResolveForm};
use ggzy_app::contacts::{ContactForm, ContactSettings};

use ggzy_app::draws::{DrawForm, DrawSummary, DrawView, ReplyResult, ShownExpert};
use ggzy_app::experts::{Expert, ExpertForm, ExpertList, ExpertListQuery, RosterResult};
use ggzy_app::import::{ChosenFile, ImportProgress, ImportReport, RejectList, RetryReport};
use ggzy_app::improvements::{ImprovementForm, ImprovementView};
use ggzy_app::materials::{Checklists, MaterialsView, Stage};
use ggzy_app::projects::{ProjectDetail, ProjectList, ProjectQuery};
use ggzy_app::pushes::{PushList, PushLogQuery};
use ggzy_app::setup::{CenterState, SetUp};
use ggzy_app::statistics::Statistics;
use ggzy_app::surveys::{SurveyForm, SurveyList};
use ggzy_app::sync::{ServerAlarm, SyncForm, SyncSettings, SyncStatus};
use ggzy_app::templates::TemplatePreview;
use ggzy_app::{App, AppError, Session, Workbench};
use tauri::ipc::Channel;
use tauri::State;

type Result<T> = std::result::Result<T, AppError>;

#[tauri::command]
pub async fn login(app: State<'_, App>, username: String, password: String) -> Result<Session> {
    app.named(app.login(&username, &password).await)
}

#[tauri::command]
pub fn logout(app: State<'_, App>) {
    app.logout()
}

#[tauri::command]
pub async fn center_state(app: State<'_, App>) -> Result<CenterState> {
    app.named(app.center_state().await)
}

#[tauri::command]
pub async fn set_up_center(app: State<'_, App>, setup: SetUp) -> Result<Session> {
    app.named(app.set_up_center(setup).await)
}

#[tauri::command]
pub async fn session(app: State<'_, App>) -> Result<Option<Session>> {
    Ok(app.session().await)
}

#[tauri::command]
pub async fn change_password(app: State<'_, App>, current: String, new: String) -> Result<Session> {
    app.named(app.change_password(&current, &new).await)
}

#[tauri::command]
pub async fn workbench(app: State<'_, App>) -> Result<Workbench> {
    app.named(app.workbench().await)
}

#[tauri::command]
pub async fn projects(app: State<'_, App>, query: ProjectQuery) -> Result<ProjectList> {
    app.named(app.projects(query).await)
}

#[tauri::command]
pub async fn project(app: State<'_, App>, code: String) -> Result<ProjectDetail> {
    app.named(app.project(&code).await)
}

#[tauri::command]
pub async fn materials(
    app: State<'_, App>,
    code: String,
    stage: Stage,
    round: Option<u32>,
) -> Result<MaterialsView> {
    app.named(app.materials(&code, stage, round).await)
}

#[tauri::command]
pub async fn checklists(app: State<'_, App>) -> Result<Checklists> {
    app.named(app.checklists().await)
}

#[tauri::command]
pub async fn save_checklists(app: State<'_, App>, lists: Checklists) -> Result<Checklists> {
    app.named(app.save_checklists(lists).await)
}

#[tauri::command]
pub async fn act(app: State<'_, App>, action: Action) -> Result<ActionDone> {
    app.named(app.act(action).await)
}

#[tauri::command]
pub async fn push_log(app: State<'_, App>, query: PushLogQuery) -> Result<PushList> {
    app.named(app.push_log(query).await)
}

#[tauri::command]
pub async fn inbox(app: State<'_, App>, before: Option<i64>) -> Result<PushList> {
    app.named(app.inbox(before).await)
}

#[tauri::command]
pub async fn inbox_unread(app: State<'_, App>) -> Result<i64> {
    app.named(app.inbox_unread().await)
}

#[tauri::command]
pub async fn requeue(app: State<'_, App>, no: i64) -> Result<()> {
    app.named(app.requeue(no).await)
}

#[tauri::command]
pub async fn verify_audit(
    app: State<'_, App>,
    on_progress: Channel<AuditProgress>,
) -> Result<AuditReport> {
    let report = app
        .verify_audit(|p| {
            // A closed window stops listening; the check itself goes on.
            let _ = on_progress.send(p);
        })
        .await;
    app.named(report)
}

#[tauri::command]
pub async fn audit_head(app: State<'_, App>) -> Result<AuditHead> {
    app.named(app.audit_head().await)
}

#[tauri::command]
pub async fn anchor_settings(app: State<'_, App>) -> Result<AnchorSettings> {
    app.named(app.anchor_settings().await)
}

#[tauri::command]
pub async fn save_anchor_settings(
    app: State<'_, App>,
    settings: AnchorSettings,
) -> Result<AnchorSettings> {
    app.named(app.save_anchor_settings(settings).await)
}

#[tauri::command]
pub async fn anchor_now(app: State<'_, App>) -> Result<AnchorSent> {
    app.named(app.anchor_now().await)
}

/// The set-up screen's 打开演示中心: start again on the demo's own file
/// beside this database (seeded there if new), which never sends anything.
#[tauri::command]
pub async fn open_demo(handle: tauri::AppHandle, app: State<'_, App>) -> Result<()> {
    app.named(app.may_open_demo().await)?;
    let db = app.store().path().with_file_name("demo.db");
    // Read by the restarted process's `Choice::from_env`; the restart inherits them.
    std::env::set_var("GGZY_DEMO", "1");
    std::env::set_var("GGZY_DB", db);
    handle.restart()
}

#[tauri::command]
pub async fn center_settings(app: State<'_, App>) -> Result<CenterSettings> {
    app.named(app.center_settings().await)
}

#[tauri::command]
pub async fn save_center_settings(
    app: State<'_, App>,
    settings: CenterSettings,
) -> Result<CenterSettings> {
    app.named(app.save_center_settings(settings).await)
}

#[tauri::command]
pub async fn staff_users(app: State<'_, App>) -> Result<Vec<StaffUser>> {
    app.named(app.staff_users().await)
}

#[tauri::command]
pub async fn add_staff_user(app: State<'_, App>, user: NewStaffUser) -> Result<String> {
    app.named(app.add_staff_user(user).await)
}

#[tauri::command]
pub async fn change_staff_user(
    app: State<'_, App>,
    username: String,
    change: StaffUserChange,
) -> Result<Option<String>> {
    app.named(app.change_staff_user(&username, change).await)
}

#[tauri::command]
pub async fn template_previews(app: State<'_, App>) -> Result<Vec<TemplatePreview>> {
    app.named(app.template_previews().await)
}

#[tauri::command]
pub async fn check_action(app: State<'_, App>, action: Action) -> Result<Option<String>> {
    app.named(app.check_action(action).await)
}

/// The system's file dialog, opened by the backend (the page has no file
/// access of its own): a handle to the chosen file, or `None` if cancelled.
/// A file chosen in the system's dialog, remembered for one import by this
/// person: the page gets a handle, never a path.
async fn pick_file(
    app: &App,
    window: &tauri::Window,
    title: &str,
    filter: (&str, &[&str]),
) -> Result<Option<ChosenFile>> {
    use tauri_plugin_dialog::DialogExt;
    app.named(app.may_import().await)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(window)
        .set_title(title)
        .add_filter(filter.0, filter.1)
        .pick_file(move |path| {
            let _ = tx.send(path);
        });
    let path = rx.await.ok().flatten().and_then(|p| p.into_path().ok());
    match path {
        Some(path) => Ok(Some(app.named(app.chosen_file(path).await)?)),
        None => Ok(None),
    }
}

#[tauri::command]
pub async fn pick_import_file(
    app: State<'_, App>,
    window: tauri::Window,
) -> Result<Option<ChosenFile>> {
    let filter = (
        "事件文件 (JSON Lines)",
        &["jsonl", "ndjson", "json", "txt"][..],
    );
    pick_file(&app, &window, "选择要导入的事件文件", filter).await
}

#[tauri::command]
pub async fn pick_roster_file(
    app: State<'_, App>,
    window: tauri::Window,
) -> Result<Option<ChosenFile>> {
    let filter = ("专家名册 (Excel, CSV)", &["xlsx", "csv"][..]);
    pick_file(&app, &window, "选择专家名册", filter).await
}

#[tauri::command]
pub async fn import_roster(app: State<'_, App>, handle: String) -> Result<RosterResult> {
    app.named(app.import_roster(&handle).await)
}

#[tauri::command]
pub async fn experts(app: State<'_, App>, query: ExpertListQuery) -> Result<ExpertList> {
    app.named(app.experts(query).await)
}

#[tauri::command]
pub async fn save_expert(app: State<'_, App>, form: ExpertForm) -> Result<Expert> {
    app.named(app.save_expert(form).await)
}

#[tauri::command]
pub async fn run_draw(app: State<'_, App>, project: String, form: DrawForm) -> Result<DrawSummary> {
    app.named(app.run_draw(&project, form).await)
}

#[tauri::command]
pub async fn draws(app: State<'_, App>, project: String) -> Result<Vec<DrawSummary>> {
    app.named(app.draws(&project).await)
}

#[tauri::command]
pub async fn complaints(app: State<'_, App>) -> Result<Vec<ComplaintItem>> {
    app.named(app.complaints().await)
}

#[tauri::command]
pub async fn complaint(app: State<'_, App>, id: String) -> Result<ComplaintDetail> {
    app.named(app.complaint(&id).await)
}

#[tauri::command]
pub async fn assignable(app: State<'_, App>) -> Result<Vec<Assignable>> {
    app.named(app.assignable().await)
}

#[tauri::command]
pub async fn lodge_complaint(app: State<'_, App>, form: ComplaintForm) -> Result<String> {
    app.named(app.lodge_complaint(form).await)
}

#[tauri::command]
pub async fn accept_complaint(
    app: State<'_, App>,
    id: String,
    assignee: Option<String>,
) -> Result<ActionDone> {
    app.named(app.accept_complaint(&id, assignee).await)
}

#[tauri::command]
pub async fn refuse_complaint(
    app: State<'_, App>,
    id: String,
    reason: String,
) -> Result<ActionDone> {
    app.named(app.refuse_complaint(&id, &reason).await)
}

#[tauri::command]
pub async fn assign_complaint(
    app: State<'_, App>,
    id: String,
    assignee: String,
) -> Result<ActionDone> {
    app.named(app.assign_complaint(&id, &assignee).await)
}

#[tauri::command]
pub async fn decide_complaint(
    app: State<'_, App>,
    id: String,
    result: String,
) -> Result<ActionDone> {
    app.named(app.decide_complaint(&id, &result).await)
}

/// An investigation note; with `attach`, the files the person chooses in
/// the system's dialog go with it (cancelled: nothing is kept, `None`).
#[tauri::command]
pub async fn note_complaint(
    app: State<'_, App>,
    window: tauri::Window,
    id: String,
    note: String,
    attach: bool,
) -> Result<Option<ActionDone>> {
    use tauri_plugin_dialog::DialogExt;
    if !attach {
        return app
            .named(app.note_complaint(&id, &note, Vec::new()).await)
            .map(Some);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(&window)
        .set_title("选择调查记录的附件")
        .pick_files(move |paths| {
            let _ = tx.send(paths);
        });
    let Some(paths) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let mut files = Vec::new();
    for path in paths.into_iter().filter_map(|p| p.into_path().ok()) {
        let bytes = std::fs::read(&path).map_err(|e| {
            AppError::new(
                ggzy_app::ErrorCode::Invalid,
                format!("未能读取 {}（{e}）：请换一个文件", path.display()),
            )
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, bytes));
    }
    app.named(app.note_complaint(&id, &note, files).await)
        .map(Some)
}

/// Save a kept file of a complaint where the person chooses; the path
/// written, or `None` if they cancelled.
#[tauri::command]
pub async fn save_complaint_file(
    app: State<'_, App>,
    window: tauri::Window,
    sm3: String,
    name: String,
) -> Result<Option<String>> {
    // Refused before the dialog opens if this person may not see complaints.
    let bytes = app.named(app.complaint_file(&sm3).await)?;
    save_in_dialog(&window, "保存附件", &name, None, &bytes).await
}

#[tauri::command]
pub async fn surveys(app: State<'_, App>) -> Result<SurveyList> {
    app.named(app.surveys().await)
}

#[tauri::command]
pub async fn record_survey(app: State<'_, App>, form: SurveyForm) -> Result<ActionDone> {
    app.named(app.record_survey(form).await)
}

#[tauri::command]
pub async fn improvements(app: State<'_, App>) -> Result<Vec<ImprovementView>> {
    app.named(app.improvements().await)
}

#[tauri::command]
pub async fn save_improvement(
    app: State<'_, App>,
    form: ImprovementForm,
) -> Result<ImprovementView> {
    app.named(app.save_improvement(form).await)
}

#[tauri::command]
pub async fn statistics(app: State<'_, App>, from: String, to: String) -> Result<Statistics> {
    app.named(app.statistics(&from, &to).await)
}

/// Save a period's statistics as .xlsx where the person chooses.
#[tauri::command]
pub async fn save_statistics(
    app: State<'_, App>,
    window: tauri::Window,
    from: String,
    to: String,
) -> Result<Option<String>> {
    let bytes = app.named(app.statistics_xlsx(&from, &to).await)?;
    let name = format!("统计-{from}-{to}.xlsx");
    save_in_dialog(
        &window,
        "导出统计",
        &name,
        Some(("Excel", &["xlsx"])),
        &bytes,
    )
    .await
}

/// Save the self-evaluation report (5.2a) of a period, as PDF or .xlsx.
#[tauri::command]
pub async fn save_self_evaluation(
    app: State<'_, App>,
    window: tauri::Window,
    from: String,
    to: String,
    kind: String,
) -> Result<Option<String>> {
    let (bytes, filter) = if kind == "xlsx" {
        (
            app.named(app.self_evaluation_xlsx(&from, &to).await)?,
            ("Excel", &["xlsx"][..]),
        )
    } else {
        (
            app.named(app.self_evaluation_pdf(&from, &to).await)?,
            ("PDF", &["pdf"][..]),
        )
    };
    let name = format!("信息推送服务自评报告-{from}-{to}.{}", filter.1[0]);
    save_in_dialog(&window, "导出自评报告", &name, Some(filter), &bytes).await
}

/// Save a period's evidence pack (5.2c) where the person chooses; the path
/// written, or `None` if they cancelled (the export is in the trail either way).
#[tauri::command]
pub async fn save_evidence_pack(
    app: State<'_, App>,
    window: tauri::Window,
    from: String,
    to: String,
) -> Result<Option<String>> {
    let bytes = app.named(app.evidence_pack(&from, &to).await)?;
    let name = format!("评估证据包-{from}-{to}.jsonl");
    save_in_dialog(
        &window,
        "导出评估证据包",
        &name,
        Some(("证据包", &["jsonl"])),
        &bytes,
    )
    .await
}

#[tauri::command]
pub async fn limits(app: State<'_, App>) -> Result<Limits> {
    app.named(app.limits().await)
}

#[tauri::command]
pub async fn save_limits(app: State<'_, App>, limits: Limits) -> Result<Limits> {
    app.named(app.save_limits(limits).await)
}

#[tauri::command]
pub async fn calendar(app: State<'_, App>) -> Result<Vec<YearExceptions>> {
    app.named(app.calendar().await)
}

#[tauri::command]
pub async fn save_calendar(
    app: State<'_, App>,
    years: Vec<YearExceptions>,
) -> Result<Vec<YearExceptions>> {
    app.named(app.save_calendar(years).await)
}

#[tauri::command]
pub async fn draw_view(app: State<'_, App>, id: String) -> Result<DrawView> {
    app.named(app.draw_view(&id).await)
}

#[tauri::command]
pub async fn reply_call(
    app: State<'_, App>,
    id: String,
    who: String,
    confirm: bool,
) -> Result<ReplyResult> {
    app.named(app.reply_call(&id, &who, confirm).await)
}

/// Save a draw's printed record as a PDF where the person chooses; the
/// path written, or `None` if they cancelled.
#[tauri::command]
pub async fn save_draw_record(
    app: State<'_, App>,
    window: tauri::Window,
    id: String,
) -> Result<Option<String>> {
    // Refused before the dialog opens if this person may not see the draw.
    let bytes = app.named(app.draw_record_pdf(&id).await)?;
    let name = format!("专家抽取记录-{id}.pdf");
    save_in_dialog(
        &window,
        "导出专家抽取记录",
        &name,
        Some(("PDF", &["pdf"])),
        &bytes,
    )
    .await
}

/// Write `bytes` where the person chooses in the system's save dialog; the
/// path written, or `None` if they cancelled.
async fn save_in_dialog(
    window: &tauri::Window,
    title: &str,
    name: &str,
    filter: Option<(&str, &[&str])>,
    bytes: &[u8],
) -> Result<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = window
        .dialog()
        .file()
        .set_parent(window)
        .set_title(title)
        .set_file_name(name);
    if let Some((what, extensions)) = filter {
        dialog = dialog.add_filter(what, extensions);
    }
    dialog.save_file(move |path| {
        let _ = tx.send(path);
    });
    let Some(path) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    std::fs::write(&path, bytes).map_err(|e| {
        AppError::new(
            ggzy_app::ErrorCode::WriteFailed,
            format!("未能写入 {}（{e}）：请换一个位置保存", path.display()),
        )
    })?;
    Ok(Some(path.display().to_string()))
}

#[tauri::command]
pub async fn sign_in(app: State<'_, App>, id: String, id_number: String) -> Result<ShownExpert> {
    app.named(app.sign_in(&id, &id_number).await)
}

#[tauri::command]
pub async fn import_file(
    app: State<'_, App>,
    handle: String,
    on_progress: Channel<ImportProgress>,
) -> Result<ImportReport> {
    let report = app
        .import_file(&handle, |p| {
            let _ = on_progress.send(p);
        })
        .await;
    app.named(report)
}

#[tauri::command]
pub async fn rejects(app: State<'_, App>, page: i64) -> Result<RejectList> {
    app.named(app.rejects(page).await)
}

#[tauri::command]
pub async fn fix_reject(app: State<'_, App>, id: i64, line: String) -> Result<String> {
    app.named(app.fix_reject(id, &line).await)
}

#[tauri::command]
pub async fn retry_rejects(app: State<'_, App>) -> Result<RetryReport> {
    app.named(app.retry_rejects().await)
}

#[tauri::command]
pub async fn channel_settings(app: State<'_, App>) -> Result<ChannelSettings> {
    app.named(app.channel_settings().await)
}

#[tauri::command]
pub async fn save_channel_settings(
    app: State<'_, App>,
    config: String,
    secrets: Vec<SecretValue>,
) -> Result<ChannelSettings> {
    app.named(app.save_channel_settings(config, secrets).await)
}

#[tauri::command]
pub async fn contact_rules(app: State<'_, App>) -> Result<ContactForm> {
    app.named(app.contact_rules().await)
}

#[tauri::command]
pub async fn save_contact_rules(
    app: State<'_, App>,
    settings: ContactSettings,
) -> Result<ContactForm> {
    app.named(app.save_contact_rules(settings).await)
}

#[tauri::command]
pub async fn read_channel_config(app: State<'_, App>, config: String) -> Result<DispatchConfig> {
    app.named(app.read_channel_config(config).await)
}

#[tauri::command]
pub async fn channel_secrets(app: State<'_, App>, config: String) -> Result<Vec<SecretState>> {
    app.named(app.channel_secrets(config).await)
}

#[tauri::command]
pub async fn sync_settings(app: State<'_, App>) -> Result<SyncSettings> {
    app.named(app.sync_settings().await)
}

#[tauri::command]
pub async fn save_sync_settings(app: State<'_, App>, form: SyncForm) -> Result<SyncSettings> {
    app.named(app.save_sync_settings(form).await)
}

#[tauri::command]
pub async fn test_sync(app: State<'_, App>, form: SyncForm) -> Result<String> {
    app.named(app.test_sync(form).await)
}

#[tauri::command]
pub async fn sync_status(app: State<'_, App>) -> Result<SyncStatus> {
    app.named(app.sync_status().await)
}

#[tauri::command]
pub async fn sync_now(app: State<'_, App>) -> Result<SyncStatus> {
    app.named(app.sync_now().await)
}

#[tauri::command]
pub async fn server_alarms(app: State<'_, App>) -> Result<Vec<ServerAlarm>> {
    app.named(app.server_alarms().await)
}

#[tauri::command]
pub async fn conflicts(app: State<'_, App>) -> Result<Vec<ConflictItem>> {
    app.named(app.conflicts().await)
}

#[tauri::command]
pub async fn resolve_conflict(
    app: State<'_, App>,
    device: String,
    seq: i64,
    form: ResolveForm,
) -> Result<()> {
    app.named(app.resolve_conflict(&device, seq, form).await)
}
