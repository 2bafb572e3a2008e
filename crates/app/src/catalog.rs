//! The power catalog (权力库): import and export as spreadsheets, search, and one power's history and
//! holders. The catalog is public law, so any signed-in user may read it; only administrators change it.

use gridward_domain::access::{Principal, Role};
use gridward_domain::catalog::{POWER_COLUMNS, PowerKind, PowerRow, validate_power_rows};
use gridward_domain::org::EnforcementDomain;
use gridward_domain::{Date, Problems};
use gridward_store::{Actor, CatalogImport, PowerVersion};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::sheet::{Sheet, SheetFormat, locate_columns, read_sheet, write_csv, write_xlsx};
use crate::{App, change};

/// The columns a responsibility list adds to a power's: who holds it, where, since when, under what.
pub const HOLDING_COLUMNS: [(&str, &str); 6] = [
    ("holder", "执法主体编码"),
    ("holder_name", "执法主体"),
    ("territory", "区域代码"),
    ("territory_name", "区域"),
    ("held_from", "起始日期"),
    ("instrument", "依据文件"),
];

/// What a catalog search asks for; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct CatalogFilter {
    /// A piece of the code or the name.
    pub text: Option<String>,
    pub domain: Option<EnforcementDomain>,
    pub kind: Option<PowerKind>,
    pub category: Option<String>,
    /// A piece of a cited law's title.
    pub law: Option<String>,
    /// Powers this body holds somewhere today.
    pub holder: Option<String>,
}

impl CatalogFilter {
    fn keeps(&self, p: &PowerVersion, held_by_holder: &std::collections::HashSet<&str>) -> bool {
        let power = &p.power;
        self.text.as_deref().is_none_or(|t| power.code.contains(t) || power.name.contains(t))
            && self.domain.is_none_or(|d| power.domain == d)
            && self.kind.is_none_or(|k| power.kind == k)
            && self.category.as_deref().is_none_or(|c| power.category == c)
            && self.law.as_deref().is_none_or(|l| power.laws().iter().any(|law| law.contains(l)))
            && (self.holder.is_none() || held_by_holder.contains(power.code.as_str()))
    }
}

/// The rows of a catalog sheet, or every problem with its line and column.
pub fn parse_catalog(sheet: &Sheet) -> Result<Vec<PowerRow>, Problems> {
    let mut wanted: Vec<(&str, &str)> = POWER_COLUMNS.to_vec();
    wanted.extend(HOLDING_COLUMNS);
    let optional: Vec<&str> = ["notes", "fine_min", "fine_max", "fine_multiple_of", "fine_multiple_min", "fine_multiple_max"]
        .into_iter()
        .chain(HOLDING_COLUMNS.iter().map(|(c, _)| *c))
        .collect();
    let at = locate_columns(&sheet.header, &wanted, &optional)?;
    let mut problems = Problems::default();
    let mut rows = Vec::new();
    for (line, cells) in &sheet.rows {
        if cells.len() > sheet.header.len() {
            problems.push(gridward_domain::Problem::at(
                *line,
                "",
                "bad_row",
                format!("{} cells where the header has {}", cells.len(), sheet.header.len()),
            ));
            continue;
        }
        let cell = |i: usize| at[i].and_then(|c| cells.get(c)).cloned().unwrap_or_default();
        rows.push(PowerRow::from_cells(*line, std::array::from_fn(cell)));
    }
    problems.into_result(rows)
}

/// A catalog written as a sheet: the header codes and one row per power.
pub fn catalog_rows(powers: &[PowerVersion]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = POWER_COLUMNS.iter().map(|(code, _)| *code).collect();
    let rows = powers.iter().map(|p| p.power.to_row().cells().iter().map(|c| c.to_string()).collect()).collect();
    (header, rows)
}

/// A sheet as bytes in `format`.
pub fn render_sheet(format: SheetFormat, title: &str, header: &[&str], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    match format {
        SheetFormat::Csv => Ok(write_csv(header, rows)),
        SheetFormat::Xlsx => write_xlsx(title, header, rows).map_err(AppError::Internal),
    }
}

/// One power: every version, and who holds it where today.
#[derive(Debug, Clone, Serialize)]
pub struct PowerDetail {
    pub current: PowerVersion,
    pub history: Vec<PowerVersion>,
    pub holders: Vec<crate::delegation::Holding>,
    /// How often the power was used in cases (处罚频次). Counted from case records; no case records are
    /// kept yet, so this is zero for every power, never an estimate.
    pub usage: u64,
}

impl App {
    /// Imports a catalog sheet (CSV or XLSX) as a whole: every bad row and column is reported and nothing
    /// is written unless the whole file is good. Administrators only.
    pub async fn import_catalog(&self, who: &Principal, bytes: &[u8]) -> AppResult<CatalogImport> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        self.import_catalog_as(bytes, &crate::actor_of(who)).await
    }

    /// The catalog import for the command line and the demo.
    pub async fn import_catalog_as(&self, bytes: &[u8], actor: &Actor) -> AppResult<CatalogImport> {
        let sheet = read_sheet(bytes)?;
        let rows = parse_catalog(&sheet)?;
        let powers = validate_power_rows(&rows)?;
        Ok(self.store.import_powers(&powers, &change(actor)).await?)
    }

    /// The powers in force on `day` that match `filter`, by code.
    pub async fn catalog(&self, _who: &Principal, day: Date, filter: &CatalogFilter) -> AppResult<Vec<PowerVersion>> {
        let powers = self.store.powers_in_force(day).await?;
        let assignments = if filter.holder.is_some() { self.store.assignments().await? } else { Vec::new() };
        let held: std::collections::HashSet<&str> = assignments
            .iter()
            .filter(|a| Some(&a.body_code) == filter.holder.as_ref() && a.is_valid_on(day))
            .map(|a| a.power_code.as_str())
            .collect();
        Ok(powers.into_iter().filter(|p| filter.keeps(p, &held)).collect())
    }

    /// The catalog in force on `day` as a spreadsheet.
    pub async fn export_catalog(
        &self,
        who: &Principal,
        day: Date,
        filter: &CatalogFilter,
        format: SheetFormat,
    ) -> AppResult<Vec<u8>> {
        let powers = self.catalog(who, day, filter).await?;
        let (header, rows) = catalog_rows(&powers);
        render_sheet(format, "权力清单", &header, &rows)
    }

    /// One power's versions and today's holders.
    pub async fn power(&self, _who: &Principal, code: &str, day: Date) -> AppResult<PowerDetail> {
        let history = self.store.power_history(code).await?;
        let current = history.iter().rev().find(|v| v.power.valid_from <= day).or(history.first()).cloned();
        let current = current.ok_or(AppError::NotFound("power"))?;
        let holders = self.holdings(day, |a| a.power_code == code).await?;
        Ok(PowerDetail { current, history, holders, usage: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_headings_and_holding_columns_are_taken() {
        let header = POWER_COLUMNS.iter().map(|(_, zh)| zh.to_string()).chain(["执法主体".to_string()]).collect();
        let mut row = vec![String::new(); POWER_COLUMNS.len() + 1];
        row[0] = "a.1".into();
        let rows = parse_catalog(&Sheet { header, rows: vec![(2, row)] }).unwrap();
        assert_eq!(rows[0].code, "a.1");
        assert_eq!(rows[0].line, 2);
    }
}
