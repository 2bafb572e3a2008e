//! Reading divisions, boundaries, bodies and staff, filtered by the caller's territory. Objects outside it
//! answer "not found" so their existence does not leak.

use gridward_domain::access::{Principal, Role};
use gridward_domain::division::{Division, DivisionCode};
use gridward_domain::org::{Body, Staff};
use gridward_store::{BoundaryRecord, Page};

use crate::App;
use crate::error::{AppError, AppResult};

/// Roles that may see staff lists (names and masked credentials).
pub const STAFF_READERS: &[Role] =
    &[Role::Admin, Role::Leader, Role::Dispatcher, Role::Officer, Role::LegalReviewer, Role::Supervisor, Role::Procuratorate];

/// A page of items and the cursor for the next one, if any.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Fetches one more row than asked so the caller knows whether another page exists.
fn paged<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Listing<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(key) } else { None };
    Listing { items, next_cursor }
}

fn page_plus_one(page: &Page) -> Page {
    Page { after: page.after.clone(), limit: page.limit + 1 }
}

/// A division with its chain of ancestors (nearest first) and whether it has an outline.
#[derive(Debug, Clone)]
pub struct DivisionDetail {
    pub division: Division,
    pub ancestors: Vec<Division>,
    /// Whether the division has an outline, and if so whether it is synthetic.
    pub boundary_synthetic: Option<bool>,
}

impl App {
    async fn visible_division(&self, who: &Principal, code: &DivisionCode) -> AppResult<Division> {
        if !who.may_see_division(code) {
            return Err(AppError::NotFound("division"));
        }
        self.store.division(code).await?.ok_or(AppError::NotFound("division"))
    }

    /// Children of a division the caller may see, in code order. Above the caller's territory only the
    /// one child on the way down to it is visible, so neither the items nor the cursor name its neighbours.
    pub async fn child_divisions(&self, who: &Principal, parent: &DivisionCode, page: &Page) -> AppResult<Listing<Division>> {
        let parent_division = self.visible_division(who, parent).await?;
        if who.covers(parent) {
            let rows = self.store.child_divisions(parent, &page_plus_one(page)).await?;
            return Ok(paged(rows, page.limit, |d| d.code.to_string()));
        }
        let on_the_way = match parent_division.level.child().and_then(|level| who.scope.ancestor_at(level)) {
            Some(code) if page.after.as_deref().is_none_or(|after| after < code.as_str()) => self.store.division(&code).await?,
            _ => None,
        };
        let items = on_the_way.into_iter().filter(|d| d.parent_code.as_ref() == Some(parent)).collect();
        Ok(Listing { items, next_cursor: None })
    }

    pub async fn division_detail(&self, who: &Principal, code: &DivisionCode) -> AppResult<DivisionDetail> {
        let division = self.visible_division(who, code).await?;
        let mut ancestors = Vec::new();
        let mut next = division.parent_code.clone();
        while let Some(parent) = next {
            let Some(d) = self.store.division(&parent).await? else { break };
            next = d.parent_code.clone();
            ancestors.push(d);
        }
        let boundary_synthetic = self.store.boundary(code).await?.map(|b| b.synthetic);
        Ok(DivisionDetail { division, ancestors, boundary_synthetic })
    }

    pub async fn boundary(&self, who: &Principal, code: &DivisionCode) -> AppResult<(Division, BoundaryRecord)> {
        let division = self.visible_division(who, code).await?;
        let boundary = self.store.boundary(code).await?.ok_or(AppError::NotFound("boundary"))?;
        Ok((division, boundary))
    }

    /// Outlines of a division's children that the caller may see, with the children themselves.
    pub async fn child_boundaries(&self, who: &Principal, parent: &DivisionCode) -> AppResult<Vec<(Division, BoundaryRecord)>> {
        self.visible_division(who, parent).await?;
        let children = self.store.child_divisions(parent, &Page { after: None, limit: 1000 }).await?;
        let boundaries = self.store.child_boundaries(parent).await?;
        Ok(boundaries
            .into_iter()
            .filter(|b| who.may_see_division(&b.code))
            .filter_map(|b| children.iter().find(|d| d.code == b.code).map(|d| (d.clone(), b)))
            .collect())
    }

    /// Bodies inside the caller's territory.
    pub async fn bodies(&self, who: &Principal, page: &Page) -> AppResult<Listing<Body>> {
        let rows = self.store.bodies_within(&who.scope, &page_plus_one(page)).await?;
        Ok(paged(rows, page.limit, |b| b.code.clone()))
    }

    /// One body, if it lies inside the caller's territory.
    pub async fn body(&self, who: &Principal, code: &str) -> AppResult<Body> {
        match self.store.body(code).await? {
            Some(b) if who.covers(&b.division_code) => Ok(b),
            _ => Err(AppError::NotFound("body")),
        }
    }

    /// Staff of a body inside the caller's territory; credential numbers are masked for all but admins.
    pub async fn staff_of_body(&self, who: &Principal, body_code: &str, page: &Page) -> AppResult<Listing<Staff>> {
        self.body(who, body_code).await?;
        if !who.has_any(STAFF_READERS) {
            return Err(AppError::Forbidden);
        }
        let rows = self.store.staff_of_body(body_code, &page_plus_one(page)).await?;
        let mut listing = paged(rows, page.limit, |s| s.staff_no.clone());
        if !who.has(Role::Admin) {
            for s in &mut listing.items {
                if let Some(c) = &mut s.credential {
                    c.number = c.masked_number();
                }
            }
        }
        Ok(listing)
    }
}
