//! 设置 → 联系规则 (3.4): admins only; checked before anything is kept; a
//! work group needs its robot first; then the pushes of new events follow
//! the rules — the center's rule for a party with both contacts, a party's
//! own preference, and a copy of what center staff are told in the
//! DingTalk group, which a real (loopback) DingTalk robot receives, signed;
//! a party that declined is left silent, and its project's timeline says so.

use ggzy_app::actions::{Action, PartyInput};
use ggzy_app::channels::SecretValue;
use ggzy_app::contacts::ContactSettings;
use ggzy_app::App;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Stage;
use ggzy_dispatch::secrets::Memory;
use ggzy_store::Store;
use std::sync::Arc;

const DEMO_PASSWORD: &str = "Demo@2026";

fn party(id: &str, phone: &str, email: &str, prefer: Option<&str>) -> PartyInput {
    PartyInput {
        id: id.into(),
        name: format!("{id} 单位"),
        phone: Some(phone.into()),
        email: Some(email.into()),
        prefer: prefer.map(Into::into),
    }
}

#[tokio::test]
async fn pushes_follow_the_contact_rules_and_reach_the_work_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_sample().await.unwrap();
    // No desktop session under `cargo test`: secrets in memory, same trait.
    let app = App::with_vault(store, Arc::new(Memory::default()));

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.contact_rules().await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let form = app.contact_rules().await.unwrap();
    assert_eq!(
        form.settings.both, "sms",
        "before anyone chose: a phone wins"
    );
    assert!(form.settings.mandatory.contains(&"4.6".to_owned()));
    assert!(form
        .clauses
        .iter()
        .any(|c| c.clause == "4.6" && c.title == "专家抽取"));
    assert!(!form.dingtalk_configured);

    let wanted = ContactSettings {
        both: "both".into(),
        mandatory: vec!["4.6".into()],
        dingtalk_roles: vec!["center_staff".into()],
        wecom_roles: vec![],
    };
    // A group whose robot is not configured: refused, nothing kept.
    let err = app.save_contact_rules(wanted.clone()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ChannelNotConfigured, "{}", err.message);
    assert!(err.message.contains("钉钉"), "{}", err.message);
    let bad = ContactSettings {
        mandatory: vec!["4.99".into()],
        dingtalk_roles: vec![],
        ..wanted.clone()
    };
    let err = app.save_contact_rules(bad).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidContactRules);
    assert!(err.message.contains("4.99"), "{}", err.message);
    assert_eq!(
        app.contact_rules().await.unwrap().settings.both,
        "sms",
        "unchanged"
    );

    let robot = ggzy_providers::dingtalk().await;
    let config = format!(
        r#"{{"dingtalk": {{"webhook": "{}"}}}}"#,
        robot.url("/robot/send?access_token=tok")
    );
    let secret = vec![SecretValue {
        name: "dingtalk".into(),
        value: ggzy_providers::DINGTALK_SECRET.into(),
    }];
    app.save_channel_settings(config, secret).await.unwrap();
    let saved = app.save_contact_rules(wanted.clone()).await.unwrap();
    assert_eq!(saved.settings, wanted);
    assert!(saved.dingtalk_configured);

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    app.act(Action::RegisterProject {
        project: "LH-2026-0700".into(),
        name: "临海市古城墙修缮工程".into(),
        tenderer: party("T700", "0576-85000700", "t700@lh.gov.cn", None),
        agency: party("A700", "13800000700", "a700@zb.cn", Some("email")),
    })
    .await
    .unwrap();
    app.act(Action::SubmitMaterials {
        project: "LH-2026-0700".into(),
        stage: Stage::Consultation,
        round: None,
    })
    .await
    .unwrap();
    let detail = app.project("LH-2026-0700").await.unwrap();
    let sent: Vec<(String, String)> = detail
        .events
        .iter()
        .flat_map(|e| &e.pushes)
        .map(|p| (p.recipient_id.clone(), p.channel.as_str().to_owned()))
        .collect();
    let to = |id: &str| -> Vec<&str> {
        let mut v: Vec<&str> = sent
            .iter()
            .filter(|(r, _)| r == id)
            .map(|(_, c)| c.as_str())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        to("T700"),
        ["email", "sms"],
        "both contacts, the center's rule: both"
    );
    assert_eq!(to("A700"), ["email"], "the agency's own preference");
    assert_eq!(
        to("group.dingtalk"),
        ["dingtalk"],
        "4.3.1 copied to the group"
    );
    let agency = detail.parties.iter().find(|p| p.id == "A700").unwrap();
    assert_eq!(
        agency.prefer.as_deref(),
        Some("email"),
        "shown with the party"
    );

    // A party that declined pushes gets none of a clause that is not
    // mandatory, and the timeline says so, with the reason.
    app.act(Action::RegisterProject {
        project: "LH-2026-0701".into(),
        name: "临海市灵江堤防加固工程".into(),
        tenderer: party("T701", "0576-85000701", "t701@lh.gov.cn", Some("none")),
        agency: party("A701", "13800000701", "a701@zb.cn", None),
    })
    .await
    .unwrap();
    let registered = &app.project("LH-2026-0701").await.unwrap().events[0];
    assert!(
        registered.pushes.iter().all(|p| p.recipient_id != "T701"),
        "declined: {:?}",
        registered.pushes
    );
    assert_eq!(registered.pushes.len(), 2, "the agency, on both channels");
    let silenced: Vec<(&str, &str, &str)> = registered
        .silenced
        .iter()
        .map(|s| {
            (
                s.clause.as_str(),
                s.role_name.as_str(),
                s.recipient_id.as_str(),
            )
        })
        .collect();
    assert_eq!(silenced, [("4.2", "招标人", "T701")]);
    assert!(registered.silenced[0].reason.contains("不接收推送"));

    // The app's dispatcher sends the group's copy to the robot, signed.
    let dispatcher = app
        .dispatcher()
        .await
        .unwrap()
        .expect("channels configured");
    dispatcher.drain().await.unwrap();
    let seen = robot.seen();
    assert_eq!(seen.bad_signatures, 0);
    assert_eq!(seen.taken.len(), 1, "{:?}", seen.taken);
    let text = &seen.taken[0].2;
    assert!(
        text.contains("各位同事")
            && text.contains("临海市古城墙修缮工程")
            && text.contains("请及时查验"),
        "{text}"
    );
    assert_eq!(
        app.store().verify_audit(|_, _| {}).await.unwrap().broken,
        None
    );
}
