//! The expert pool and the draw in the app: who may look, keep and draw
//! (checked in the backend); ID numbers masked; an edit without an ID
//! number keeps the one on record; a draw shown by its counts, never by who.

mod common;
use common::*;
use ggzy_app::draws::{DrawForm, NeedInput};
use ggzy_app::experts::ExpertListQuery;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;

fn query() -> ExpertListQuery {
    ExpertListQuery {
        page: 1,
        page_size: 50,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_pool_is_kept_by_center_staff_and_shown_masked() {
    let (app, _dir) = demo_app().await;
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.experts(query()).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let err = app.save_expert(expert(1, None)).await.unwrap_err();
    assert!(err.message.contains("身份证号"), "{}", err.message);
    let saved = app
        .save_expert(expert(1, Some(id_number(1))))
        .await
        .unwrap();
    assert_eq!(
        saved.id_number,
        format!("331082********{}", &id_number(1)[14..])
    );
    // Edited without the ID number: the one on record stays.
    let mut edit = expert(1, None);
    edit.name = "专家一".into();
    app.save_expert(edit).await.unwrap();
    let kept = app.store().expert("Z001").await.unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.id_number.as_str()),
        ("专家一", id_number(1).as_str())
    );

    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let list = app.experts(query()).await.unwrap();
    assert_eq!(list.total, 1);
    assert!(list.items[0].id_number.contains("********"));
    assert_eq!(
        app.save_expert(expert(2, Some(id_number(2))))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "the supervisor looks, center staff keep"
    );
}

#[tokio::test]
async fn a_draw_is_shown_by_its_counts_never_by_who() {
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    for i in 1..=8 {
        app.save_expert(expert(i, Some(id_number(i))))
            .await
            .unwrap();
    }
    let draw = DrawForm {
        specialties: vec![NeedInput {
            code: "A01".into(),
            count: 3,
        }],
        backups: 2,
        evaluation_start: "2026-12-20T09:00:00+08:00".into(),
        duration_hours: 4.0,
        place: "三楼第二评标室".into(),
        contact_phone: "0576-85110086".into(),
        sender: "临海市公共资源交易中心".into(),
        avoid: vec!["Z008".into()],
        recent_days: Some(30),
        regions: Vec::new(),
        reply_minutes: None,
    };
    app.login("liuyang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.run_draw("LH-2026-0105", draw.clone())
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let d = app.run_draw("LH-2026-0105", draw).await.unwrap();
    assert_eq!((d.picks[0].drawn, d.picks[0].backups), (3, 2));
    assert_eq!(d.excluded[0].rule, "本项目回避名单");
    let shown = serde_json::to_string(&d).unwrap();
    for i in 1..=8 {
        assert!(
            !shown.contains(&format!("Z00{i}")) && !shown.contains(&format!("专家{i}")),
            "{shown}"
        );
    }
    assert_eq!(app.draws("LH-2026-0105").await.unwrap(), [d]);
}
