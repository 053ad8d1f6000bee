//! Template preview (设置): every rule of the standard's catalog with its
//! template and the text each recipient role would get, rendered by the
//! core's own renderer with the center's current name and phone and sample
//! values, so staff see exactly what a push will read like.

use crate::{App, Result, ANY_ROLE};
use ggzy_core::catalog::CATALOG;
use ggzy_core::error::ErrorCode;
use ggzy_core::render::{render, Center, Items, MASK};
use ggzy_core::role::Role;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TemplatePreview {
    /// The rule, e.g. `4.4.2-reject`.
    pub rule: String,
    pub clause: String,
    pub title: String,
    /// The template, `{item}` for each required item.
    pub template: String,
    pub items: Vec<String>,
    pub samples: Vec<TemplateSample>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TemplateSample {
    pub role: String,
    pub role_name: String,
    pub text: String,
}

/// Sample values for every item a template may ask for.
fn sample_items() -> Items {
    [
        ("project_name", "城区道路提升改造工程"),
        ("project_code", "LH-2026-0001"),
        ("url", "https://ggzy.example.gov.cn/notice/2026/0001"),
        ("opinion", "投标人资格条件表述不清"),
        ("round", "1"),
        ("username", "zhejiang_build"),
        // Secrets are never shown: every stored copy masks them too.
        ("password", MASK),
        ("password_ttl", "24小时"),
        ("sender", "台州市公共资源交易中心"),
        ("evaluation_start", "2026年12月1日 09:00"),
        ("duration_hours", "4"),
        ("place", "评标区三号评标室"),
        ("contact_phone", "0576-85110000"),
        ("subject", "招标文件资格条件设置"),
        ("result", "已责令招标人修改招标文件"),
        ("channel", "网上"),
        ("complaint_id", "TS-2026-031"),
        (
            "reason",
            "所反映事项不属于本中心信息推送服务范围，已告知向行政监督部门反映",
        ),
        ("when", "处理决定期限将于 2026-12-31 届满"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn sample_name(role: Role) -> &'static str {
    match role {
        Role::Member => "浙江临海建设有限公司",
        Role::Tenderer => "临海市城市建设投资有限公司",
        Role::Agency => "浙江正信招标代理有限公司",
        Role::Bidder | Role::WinningBidder | Role::LosingBidder => "浙江宏远建设集团有限公司",
        Role::Expert => "李明",
        Role::CenterStaff => "张伟",
        Role::SupervisorStaff => "王芳",
        Role::Supervisor => "陈静",
        Role::Complainant => "陈先生",
    }
}

impl App {
    pub async fn template_previews(&self) -> Result<Vec<TemplatePreview>> {
        self.require(ANY_ROLE, "查看消息模板").await?;
        let settings = self.center_settings().await?;
        let center = Center {
            name: settings.center_name,
            phone: Some(settings.center_phone).filter(|p| !p.trim().is_empty()),
        };
        let items = sample_items();
        CATALOG
            .iter()
            .map(|rule| {
                let samples = rule
                    .recipients
                    .iter()
                    .map(|&role| {
                        let name = sample_name(role);
                        let text = render(rule, role, name, &items, &center)
                            .map_err(|r| crate::AppError::new(ErrorCode::Internal, r.to_string()))?
                            .text(name);
                        Ok(TemplateSample {
                            role: role.as_str().to_owned(),
                            role_name: role.zh().to_owned(),
                            text,
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(TemplatePreview {
                    rule: rule.id.to_owned(),
                    clause: rule.clause.to_owned(),
                    title: rule.title.to_owned(),
                    template: rule.template.to_owned(),
                    items: rule
                        .required_items()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    samples,
                })
            })
            .collect()
    }
}
