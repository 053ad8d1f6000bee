//! The `ggzy` CLI is a public contract: these tests run the built binary on
//! a temporary database, as an integrator's script would.

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("ggzy.db")
    }

    fn run_with(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ggzy"))
            .arg("--db")
            .arg(self.db())
            .args(args)
            .env_remove("GGZY_DB")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, "")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    }

    fn staff(&self) {
        self.ok(&[
            "user",
            "add",
            "--username",
            "cs1",
            "--name",
            "张一",
            "--role",
            "center_staff",
        ]);
        let out = self.run_with(
            &[
                "user",
                "add",
                "--username",
                "ss1",
                "--name",
                "王一",
                "--role",
                "supervisor_staff",
                "--phone",
                "13800000001",
                "--password-stdin",
            ],
            "a long passphrase\n",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn pushes(cli: &Cli, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["pushes", "--json"];
    args.extend_from_slice(extra);
    cli.ok(&args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn import_prints_a_summary_and_pushes_list_as_json() {
    let cli = Cli::new();
    cli.staff();
    let out = cli.ok(&["import", &fixture("lifecycle.jsonl")]);
    assert!(out.contains("接受 10 条，重复 0 条，拒绝 0 条"), "{out}");

    let all = pushes(&cli, &[]);
    // 4.2 ×2, 4.4.1 ×1, 4.4.2-reject ×2, 4.4.1 ×1, 4.4.2-pass ×2, 4.4.3 ×1 (its pass pushes nothing), 4.4.4 ×2
    assert_eq!(all.len(), 11);
    let p = all
        .iter()
        .find(|p| p["event_id"] == "t-005" && p["recipient"]["role"] == "agency")
        .unwrap();
    assert_eq!(p["clause"], "4.4.2");
    assert_eq!(p["recipient"]["id"], "A1");
    assert_eq!(p["recipient"]["name"], "浙江求是工程咨询有限公司");
    assert_eq!(p["channel"], "email");
    assert_eq!(p["status"], "queued");
    assert!(p["text"].as_str().unwrap().contains("资格条件表述不清"));
    for key in [
        "id",
        "event_id",
        "clause",
        "recipient",
        "channel",
        "text",
        "status",
        "created_at",
    ] {
        assert!(!p[key].is_null(), "missing {key}");
    }
    let staff = all.iter().find(|p| p["clause"] == "4.4.1").unwrap();
    assert_eq!(
        staff["recipient"],
        serde_json::json!({"role": "supervisor_staff", "id": "ss1", "name": "王一"})
    );
    assert_eq!(staff["channel"], "desktop");

    assert_eq!(pushes(&cli, &["--project", "TZ-2026-0001"]).len(), 11);
    assert!(pushes(&cli, &["--project", "OTHER"]).is_empty());
    assert!(cli.ok(&["audit", "verify"]).contains("审计链完整"));
}

#[test]
fn importing_twice_changes_nothing_and_stdin_works() {
    let cli = Cli::new();
    cli.staff();
    cli.ok(&["import", &fixture("lifecycle.jsonl")]);
    let before = cli.ok(&["pushes", "--json"]);
    let text = std::fs::read_to_string(fixture("lifecycle.jsonl")).unwrap();
    let out = cli.run_with(&["import", "-"], &text);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("接受 0 条，重复 10 条，拒绝 0 条"),
        "{}",
        stdout(&out)
    );
    assert_eq!(cli.ok(&["pushes", "--json"]), before);
}

#[test]
fn refused_lines_exit_1_are_named_and_kept() {
    let cli = Cli::new();
    cli.staff();
    let bad = [
        r#"{"id":"x1","type":"project.registered","at":"2026-11-02T09:00:00+08:00","project":"P","name":"某工程","tenderer":{"id":"T","name":"某局","phone":"call me"}}"#,
        r#"{"id":"x2","type":"notice.published","at":"2026-11-02T09:00:00","project":"P","stage":"consultation","url":"https://x.cn"}"#,
        "not json at all",
        r#"{"id":"x4","type":"materials.submitted","at":"2026-11-02T09:00:00+08:00","project":"NOPE","stage":"consultation"}"#,
    ]
    .join("\n");
    let out = cli.run_with(&["import", "-"], &bad);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("拒绝 4 条"), "{text}");
    assert!(
        text.contains("第 1 行（x1）[invalid_field] 字段 `tenderer.phone`"),
        "{text}"
    );
    assert!(
        text.contains("第 2 行（x2）[invalid_field] 字段 `at`"),
        "{text}"
    );
    assert!(text.contains("第 3 行（无 id）[malformed]"), "{text}");
    assert!(text.contains("第 4 行（x4）[unknown_project]"), "{text}");
    let rejects = cli.ok(&["rejects", "--json"]);
    assert_eq!(rejects.lines().count(), 4);
    let first: Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(first["locus"], "tenderer.phone");
    assert!(pushes(&cli, &[]).is_empty());
}

#[test]
fn audit_verify_fails_naming_the_record_after_tampering() {
    let cli = Cli::new();
    cli.staff();
    cli.ok(&["import", &fixture("lifecycle.jsonl")]);
    // Tamper through SQLite itself, as a person with the file could.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = ggzy_store::Store::open(&cli.db()).await.unwrap();
        sqlx_exec(&store, "DROP TRIGGER audit_records_no_update").await;
        sqlx_exec(
            &store,
            "UPDATE audit_records SET content = replace(content, 't-006', 't-066') WHERE seq = 8",
        )
        .await;
        store.close().await;
    });
    let out = cli.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("第 8 条"), "{}", stdout(&out));
}

#[test]
fn audit_head_is_one_line_that_verify_holds_the_chain_to() {
    let cli = Cli::new();
    cli.staff();
    let head = cli.ok(&["audit", "head"]);
    let head = head.trim();
    let (seq, hash) = head.split_once(':').expect(head);
    assert_eq!((seq, hash.len()), ("2", 64), "{head}");
    cli.ok(&["import", &fixture("lifecycle.jsonl")]);
    let out = cli.ok(&["audit", "verify", "--expect-head", head]);
    assert!(out.contains(&format!("所持链头 {head} 仍在链中")), "{out}");

    // A head this chain never had: the same seq, another hash.
    let forged = format!("{seq}:{}", "0".repeat(64));
    let out = cli.run(&["audit", "verify", "--expect-head", &forged]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("所持链头"), "{}", stdout(&out));
    // A head further than the chain goes: it was cut short.
    let beyond = format!("99999:{hash}");
    let out = cli.run(&["audit", "verify", "--expect-head", &beyond]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("截断"), "{}", stdout(&out));
    // A head mistyped: named, exit 2 as for any usage error.
    let out = cli.run(&["audit", "verify", "--expect-head", "12:xyz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("序号:哈希"));
}

#[test]
fn audit_anchor_queues_the_head_for_the_recipients_set() {
    let cli = Cli::new();
    cli.staff();
    let out = cli.run(&["audit", "anchor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("anchor_recipients"));
    cli.ok(&[
        "settings",
        "set",
        "anchor_recipients",
        "王科长 13800000001 wang@jd.gov.cn",
    ]);
    let head = cli.ok(&["audit", "head"]);
    let out = cli.ok(&["audit", "anchor"]);
    assert!(
        out.contains(head.trim()) && out.contains("2 条推送"),
        "{out}"
    );
    let pushes = cli.ok(&["pushes"]);
    let anchors: Vec<&str> = pushes
        .lines()
        .filter(|l| l.starts_with("anchor\t"))
        .collect();
    assert_eq!(anchors.len(), 2, "{pushes}");
    assert!(anchors.iter().all(|l| l.contains(head.trim())), "{pushes}");
    cli.ok(&["audit", "verify", "--expect-head", head.trim()]);
}

#[test]
fn audit_verify_never_creates_the_file_it_is_given() {
    let cli = Cli::new();
    let missing = cli.dir.path().join("mistyped.db");
    for args in [["audit", "verify"], ["audit", "head"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_ggzy"))
            .arg("--db")
            .arg(&missing)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("mistyped.db") && err.contains("not_a_database"),
            "{err}"
        );
        assert!(!missing.exists(), "{args:?} created the file");
    }
}

async fn sqlx_exec(store: &ggzy_store::Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

#[test]
fn users_demo_and_settings() {
    let cli = Cli::new();
    let out = cli.ok(&[
        "user",
        "add",
        "--username",
        "admin",
        "--name",
        "管理员",
        "--role",
        "admin",
    ]);
    assert!(out.contains("一次性密码："), "{out}");
    let dup = cli.run(&[
        "user",
        "add",
        "--username",
        "admin",
        "--name",
        "又一个",
        "--role",
        "admin",
    ]);
    assert_eq!(dup.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("已存在"));
    let bad_role = cli.run(&[
        "user",
        "add",
        "--username",
        "x1",
        "--name",
        "某",
        "--role",
        "boss",
    ]);
    assert!(!bad_role.status.success());
    let short = cli.run_with(
        &[
            "user",
            "add",
            "--username",
            "x2",
            "--name",
            "某",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("密码过短"));

    let bad = cli.run(&["settings", "set", "center_fax", "1"]);
    assert_eq!(bad.status.code(), Some(2));
    cli.ok(&["settings", "set", "center_phone", "0576-85110086"]);
    assert!(cli
        .ok(&["settings", "list"])
        .contains("center_phone\t0576-85110086"));

    // A center's own database never becomes the demo; the demo has its own file.
    let refused = cli.run(&["demo"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not_demo"));
    let demo = Cli::new();
    let out = demo.ok(&["demo"]);
    assert!(out.contains("拒绝 0 条"), "{out}");
    let users = demo.ok(&["user", "list"]);
    for u in ["zhangwei", "wangfang", "chenjing"] {
        assert!(users.contains(u), "{users}");
    }
    assert!(pushes(&demo, &[]).iter().any(|p| p["clause"] == "5.1.2"));
    assert!(demo.ok(&["audit", "verify"]).contains("审计链完整"));
    // It sends only through its simulated channel: real ones are refused.
    let config = demo.dir.path().join("channels.json");
    std::fs::write(
        &config,
        r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "https://sms.example.gov.cn/api", "key_id": "k"}]}"#,
    )
    .unwrap();
    let out = demo.run(&["dispatch", "configure", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("演示中心"));
}

/// 3.4 from the command line: the contact rules are shown, refused with the
/// field named, saved from a file; imported parties' preferences then decide
/// each push's channels.
#[test]
fn contact_rules_and_preferences_decide_the_channels() {
    let cli = Cli::new();
    cli.staff();
    cli.ok(&["settings", "set", "center_name", "临海市公共资源交易中心"]);
    let shown: Value = serde_json::from_str(&cli.ok(&["settings", "contacts"])).unwrap();
    assert_eq!(shown["both"], "sms", "{shown}");
    let file = |name: &str, text: &str| {
        let path = cli.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let typo = cli.run(&[
        "settings",
        "contacts",
        &file("typo.json", r#"{"bothh": "email"}"#),
    ]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("bothh"));
    let group = file(
        "group.json",
        r#"{"groups": [{"channel": "dingtalk", "roles": ["center_staff"]}]}"#,
    );
    let no_robot = cli.run(&["settings", "contacts", &group]);
    assert_eq!(no_robot.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_robot.stderr).contains("钉钉群机器人"));
    cli.ok(&[
        "settings",
        "contacts",
        &file("both.json", r#"{"both": "both"}"#),
    ]);

    let party = |id: &str, prefer: &str| {
        let mut p = serde_json::json!({"id": id, "name": format!("{id} 单位"),
            "phone": "0576-85000001", "email": format!("{id}@example.cn")});
        if !prefer.is_empty() {
            p["prefer"] = prefer.into();
        }
        p
    };
    let line = serde_json::json!({"id": "e1", "type": "project.registered", "at": "2026-11-27T09:30:00+08:00",
        "project": "LH-2026-0900", "name": "某工程", "tenderer": party("T", ""), "agency": party("A", "none")});
    let bad = serde_json::json!({"id": "e2", "type": "project.registered", "at": "2026-11-27T09:30:00+08:00",
        "project": "LH-2026-0901", "name": "某工程", "tenderer": party("T", "fax")});
    let out = cli.run_with(&["import", "-"], &format!("{line}\n{bad}\n"));
    assert_eq!(out.status.code(), Some(1), "the second line is refused");
    let err = String::from_utf8_lossy(&out.stderr).into_owned() + &stdout(&out);
    assert!(err.contains("fax"), "the bad preference is named: {err}");
    let mut got: Vec<(String, String)> = pushes(&cli, &[])
        .iter()
        .map(|p| {
            (
                p["recipient"]["id"].as_str().unwrap().to_owned(),
                p["channel"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("T".into(), "email".into()), ("T".into(), "sms".into())],
        "the tenderer by the center's rule (both); the agency declined 4.2"
    );
}

#[tokio::test]
async fn a_database_failure_names_the_file() {
    let cli = Cli::new();
    cli.staff();
    // A file damaged by hand: a table the program reads is gone.
    let store = ggzy_store::Store::open(&cli.db()).await.unwrap();
    sqlx_exec(&store, "DROP TABLE rejects").await;
    store.close().await;
    let out = cli.run(&["rejects"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[database]") && err.contains(&cli.db().display().to_string()),
        "{err}"
    );
}

#[test]
fn a_backup_is_a_whole_copy_that_verifies_and_is_never_overwritten() {
    let cli = Cli::new();
    cli.staff();
    cli.ok(&["import", &fixture("lifecycle.jsonl")]);
    let head = cli.ok(&["audit", "head"]);
    let copy = cli.dir.path().join("backup.db");
    let out = cli.ok(&["backup", copy.to_str().unwrap()]);
    assert!(out.contains("已备份到"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the owner's alone");
    }
    let on_copy = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ggzy"))
            .arg("--db")
            .arg(&copy)
            .args(args)
            .output()
            .unwrap()
    };
    let verified = on_copy(&["audit", "verify", "--expect-head", head.trim()]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    assert_eq!(stdout(&on_copy(&["audit", "head"])), head);
    // Never over an existing file.
    let again = cli.run(&["backup", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("backup_exists"));
    assert_eq!(
        stdout(&on_copy(&["audit", "head"])),
        head,
        "the first copy untouched"
    );
}

/// A file that cannot be read and a port already taken are failures of
/// their own (not "not found"): exit 2, the code and what to do.
#[test]
fn file_and_port_failures_have_codes_of_their_own() {
    let cli = Cli::new();
    cli.ok(&["user", "list"]);
    let missing = cli.dir.path().join("没有这个文件.jsonl");
    let out = cli.run(&["import", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[read_failed]") && err.contains("没有这个文件.jsonl"),
        "{err}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = cli.dir.path().join("channels.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"receipts": {{"listen": "{}"}}}}"#,
            taken.local_addr().unwrap()
        ),
    )
    .unwrap();
    cli.ok(&["dispatch", "configure", config.to_str().unwrap()]);
    let out = cli.run(&["dispatch", "run", "--until-idle"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[port_unavailable]"), "{err}");
}

/// `ggzy sync` says how far the server holds this device's records, asks
/// for a server when none is given, and a server out of reach is its own
/// failure: the desktop keeps its place.
#[test]
fn sync_reports_its_place_and_an_unreachable_server() {
    let cli = Cli::new();
    cli.ok(&["demo"]);
    let status = cli.ok(&["sync", "status", "--json"]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["head"], 0);
    assert!(status["waiting"].as_i64().unwrap() > 100, "{status}");

    let out = cli.run(&["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));

    let out = cli.run(&[
        "sync",
        "--server",
        "http://127.0.0.1:9",
        "--token",
        "ggzy_x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[server_unreachable]") && err.contains("离线工作"),
        "{err}"
    );
    let after: Value = serde_json::from_str(&cli.ok(&["sync", "status", "--json"])).unwrap();
    assert_eq!(after, status);
}

/// A roster imported (ID numbers masked in the list), a draw run for a
/// demo project with its avoidance rules, the drawn told by 4.6, the
/// commitment the seed's SM3 (checked here with the sm3 crate itself), and
/// `draw verify` reproducing it until one byte of the inputs is changed.
#[test]
fn experts_are_imported_drawn_told_and_the_draw_verifies() {
    let cli = Cli::new();
    cli.ok(&["demo"]);
    let id_number = |i: usize| {
        let prefix = format!("33100219700101{i:03}");
        let check = ggzy_core::experts::check_character(&prefix).unwrap();
        format!("{prefix}{check}")
    };
    let mut roster = String::from("编号,姓名,身份证号,手机,专业,工作单位,状态\n");
    for i in 1..=40 {
        let employer = if i <= 5 {
            "浙江求是工程咨询监理有限公司".to_owned()
        } else {
            format!("单位{i}")
        };
        let specialties = if i % 2 == 0 { "A01;A02" } else { "A01" };
        let status = if i == 6 { "暂停" } else { "在库" };
        roster.push_str(&format!(
            "E{i:03},专家{i},{},1395862{i:04},{specialties},{employer},{status}\n",
            id_number(i)
        ));
    }
    let file = cli.dir.path().join("roster.csv");
    std::fs::write(&file, &roster).unwrap();
    let out = cli.ok(&["experts", "import", file.to_str().unwrap()]);
    assert!(out.contains("新增 40 名"), "{out}");
    let listed = cli.ok(&["experts", "list", "--json"]);
    assert_eq!(listed.lines().count(), 40);
    assert!(
        !listed.contains(&id_number(1)),
        "ID numbers are masked: {listed}"
    );
    assert!(listed.contains("331002********"), "{listed}");

    let request = cli.dir.path().join("request.json");
    // Ahead of today, so a decline still calls a backup.
    let start = (chrono::Local::now() + chrono::Duration::days(13))
        .format("%Y-%m-%dT09:00:00+08:00")
        .to_string();
    std::fs::write(
        &request,
        r#"{"specialties":[{"code":"A01","count":3},{"code":"A02","count":2}],"backups":2,
            "evaluation":{"start":"START","duration_hours":4,"place":"三楼第二评标室","contact_phone":"0576-85110086"},
            "sender":"临海市公共资源交易中心","avoid":["E007"],"recent_days":30}"#
            .replace("START", &start),
    )
    .unwrap();
    let project = "LH-2026-0105";
    let out = cli.ok(&[
        "draw",
        "run",
        "--project",
        project,
        "--request",
        request.to_str().unwrap(),
        "--json",
    ]);
    let d: Value = serde_json::from_str(&out).expect("one JSON object");
    let ids = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let (drawn, backups) = (ids("drawn"), ids("backups"));
    assert_eq!((drawn.len(), backups.len()), (5, 4), "{d}");
    for x in drawn.iter().chain(&backups) {
        let n: usize = x[1..].parse().unwrap();
        assert!(
            n > 7,
            "{x} breaks a rule (agency's employee, suspended or avoided)"
        );
    }
    assert_eq!(d["excluded"]["employer"], 5, "{d}");
    assert_eq!(d["excluded"]["suspended"], 1, "{d}");
    assert_eq!(d["excluded"]["avoided"], 1, "{d}");
    let seed: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&d["seed"].as_str().unwrap()[i * 2..i * 2 + 2], 16).unwrap())
        .collect();
    use sm3::Digest;
    let hash: String = sm3::Sm3::digest(&seed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        d["commitment"],
        hash.as_str(),
        "the commitment is the seed's SM3"
    );

    let told: Vec<String> = pushes(&cli, &["--project", project])
        .iter()
        .filter(|p| p["clause"] == "4.6")
        .map(|p| p["recipient"]["id"].as_str().unwrap().to_owned())
        .collect();
    let mut want = drawn.clone();
    want.sort();
    let mut got = told.clone();
    got.sort();
    assert_eq!(got, want, "4.6 to each drawn expert, not to the backups");

    let id = d["id"].as_str().unwrap();
    cli.ok(&["draw", "verify", id]);
    cli.ok(&["audit", "verify"]);

    // A decline calls the first backup of the same specialty, who alone is told.
    let out = cli.ok(&["draw", "reply", id, "--expert", &drawn[0], "--decline"]);
    assert!(out.contains("已通知备选专家 1 名"), "{out}");
    let told_4_6 = |who: &str| {
        pushes(&cli, &["--project", project])
            .iter()
            .filter(|p| p["clause"] == "4.6" && p["recipient"]["id"] == who)
            .count()
    };
    assert_eq!(told_4_6(&backups[0]), 1);
    assert_eq!(told_4_6(&backups[1]), 0);
    assert_eq!(
        told_4_6(&drawn[0]),
        1,
        "the declined expert gets nothing more"
    );
    let status: Value = serde_json::from_str(&cli.ok(&["draw", "status", id, "--json"])).unwrap();
    assert_eq!(
        (
            &status[0]["called"],
            &status[0]["declined"],
            &status[0]["waiting"]
        ),
        (&json!(4), &json!(1), &json!(3)),
        "{status}"
    );
    assert!(!status.to_string().contains(&drawn[1]), "counts, never who");
    // Signed in by the ID number on the card: the expert is named.
    let n: usize = drawn[1][1..].parse().unwrap();
    let out = cli.ok(&["draw", "sign-in", id, "--id-number", &id_number(n)]);
    assert!(out.contains(&format!("专家{n}")), "{out}");
    cli.ok(&["audit", "verify"]);
    // One byte of the recorded inputs changed: the draw no longer verifies.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = ggzy_store::Store::open(&cli.db()).await.unwrap();
        let inputs: String = sqlx::query_scalar("SELECT inputs FROM draws WHERE id = ?")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let changed = inputs.replacen("\"E040\"", "\"E041\"", 1);
        assert_ne!(changed, inputs);
        sqlx::query("UPDATE draws SET inputs = ? WHERE id = ?")
            .bind(changed)
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let out = cli.run(&["draw", "verify", id]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("抽取条件被改动"), "{err}");
    // The whole trail's check finds it too, naming the table and the draw.
    let out = cli.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("draws") && stdout(&out).contains(id),
        "{}",
        stdout(&out)
    );

    // More than the pool holds: refused saying by how many and which rule.
    std::fs::write(
        &request,
        r#"{"specialties":[{"code":"A02","count":30}],"evaluation":{"start":"2026-12-20T09:00:00+08:00","duration_hours":4,"place":"评标室","contact_phone":"0576-85110086"},"sender":"中心"}"#,
    )
    .unwrap();
    let out = cli.run(&[
        "draw",
        "run",
        "--project",
        project,
        "--request",
        request.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("A02") && err.contains("缺"), "{err}");
}

/// 5.2c: the demo center's evidence pack for its year, exported by the
/// CLI and verified by it with no database at all (in another folder, the
/// database gone); one byte changed anywhere — sampled across the whole
/// file and at every byte of its last line — and it fails, naming the line.
#[test]
fn an_evidence_pack_verifies_alone_and_fails_after_any_byte_changes() {
    let cli = Cli::new();
    cli.ok(&["demo"]);
    let out = cli.dir.path().join("pack.jsonl");
    let said = cli.ok(&[
        "audit",
        "pack",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("证据包已写入"), "{said}");
    // The export itself is in the trail, which still verifies.
    cli.ok(&["audit", "verify"]);

    let elsewhere = tempfile::tempdir().unwrap();
    let pack = elsewhere.path().join("pack.jsonl");
    std::fs::copy(&out, &pack).unwrap();
    drop(cli);
    let verify = |path: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ggzy"))
            .args(["audit", "verify", "--pack"])
            .arg(path)
            .env_remove("GGZY_DB")
            .env("HOME", elsewhere.path())
            .current_dir(elsewhere.path())
            .output()
            .unwrap()
    };
    let good = verify(&pack);
    let text = stdout(&good);
    assert!(good.status.success(), "{text}");
    assert!(
        text.contains("证据包完整：临海市公共资源交易中心（2026-01-01 至 2026-12-31）"),
        "{text}"
    );
    assert!(!elsewhere.path().join("ggzy.db").exists());

    // One byte changed, in turn, across the file: each is found.
    let bytes = std::fs::read(&pack).unwrap();
    let last = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let stride = bytes.len() / 300;
    let mut positions: Vec<usize> = (0..bytes.len()).step_by(stride.max(1)).collect();
    positions.extend(last..bytes.len());
    for i in positions {
        let mut changed = bytes.clone();
        changed[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        let found = ggzy_core::pack::verify(&changed);
        assert!(
            found.is_err(),
            "a change at byte {i} of {} went unnoticed",
            bytes.len()
        );
    }
    // And the CLI says so, with exit 1.
    let mut changed = bytes.clone();
    let mid = bytes.len() / 2;
    changed[mid] = if bytes[mid] == b'0' { b'1' } else { b'0' };
    std::fs::write(&pack, &changed).unwrap();
    let bad = verify(&pack);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout(&bad).contains("证据包未通过校验：第 "),
        "{}",
        stdout(&bad)
    );
}
