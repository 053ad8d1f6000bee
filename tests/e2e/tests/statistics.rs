//! 统计 in the real window, as the supervisor: this year's figures drawn
//! as charts beside their tables, exported to Excel, and the 自评报告
//! saved as a PDF that reads as the report (pdftotext).

use ggzy_e2e::Driven;

#[tokio::test]
async fn the_supervisor_reads_the_figures_and_saves_the_report() {
    let app = Driven::start().await;
    app.login("chenjing", "Demo@2026").await;
    app.click("[data-menu='/statistics']").await;
    // The demo's registrations pushed under 4.2; the chart is drawn.
    app.text_contains("[data-stat-table=pushes_by_clause]", "4.2")
        .await;
    app.find("[data-chart=pushes_by_clause] canvas").await;
    app.text_contains("[data-stat=satisfaction]", "2026-").await;
    app.screenshot("statistics").await;

    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("stats.xlsx");
    app.click("[data-test=stats-export]").await;
    app.save_in_file_dialog("导出统计", &xlsx).await;
    app.text_contains(".el-message--success", "已保存到").await;
    let bytes = std::fs::read(&xlsx).expect("the workbook was written");
    assert!(bytes.starts_with(b"PK"), "an .xlsx is a zip");

    let pdf = dir.path().join("report.pdf");
    app.click("[data-test=report-pdf]").await;
    app.save_in_file_dialog("导出自评报告", &pdf).await;
    app.text_contains(".el-message--success", "自评报告已保存到")
        .await;
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("信息推送服务自评报告"), "{text}");
    assert!(text.contains("条款覆盖"), "{text}");
    app.stop().await;
}
