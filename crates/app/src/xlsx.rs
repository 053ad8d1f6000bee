//! Tables as an .xlsx workbook (rust_xlsxwriter): one sheet per table, its
//! title above the header row.

use crate::statistics::StatTable;
use crate::{AppError, Result};
use ggzy_core::error::ErrorCode;
use rust_xlsxwriter::{Format, Workbook};

/// A sheet's name from a title: Excel allows 31 characters and none of `[]:*?/\`.
fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    let mut name = clean.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{clean}{n}");
        n += 1;
    }
    name
}

pub(crate) fn workbook(tables: &[StatTable]) -> Result<Vec<u8>> {
    let failed = |e: rust_xlsxwriter::XlsxError| {
        AppError::new(ErrorCode::Internal, format!("未能生成 Excel 文件：{e}"))
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let mut names = Vec::new();
    for t in tables {
        let name = sheet_name(&t.title, &names);
        names.push(name.clone());
        let sheet = book.add_worksheet();
        sheet.set_name(&name).map_err(failed)?;
        sheet
            .write_string_with_format(0, 0, &t.title, &bold)
            .map_err(failed)?;
        for (c, column) in t.columns.iter().enumerate() {
            sheet
                .write_string_with_format(1, c as u16, column, &bold)
                .map_err(failed)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 2;
            sheet.write_string(r, 0, &row.label).map_err(failed)?;
            for (c, v) in row.values.iter().enumerate() {
                sheet.write_number(r, c as u16 + 1, *v).map_err(failed)?;
            }
        }
        sheet.set_column_width(0, 24).map_err(failed)?;
    }
    book.save_to_buffer().map_err(failed)
}
