//! Page jobs to HTML: each job's template rendered with its context by the theme's Tera,
//! one page or every page in parallel (reporting progress).

use rayon::prelude::*;

use super::{PageJob, SiteInput};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::templates::{error_chain, Theme};

/// Renders one page with the theme.
/// (Deferred contexts are built from `input` first.)
pub fn render_page(theme: &Theme, input: &SiteInput, job: &PageJob) -> Result<String, Diagnostic> {
    // Heavy pages one at a time (their variables and their HTML are what is large; neither
    // building nor rendering them uses the thread pool, so waiting here cannot deadlock).
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = matches!(job.context, crate::render::PageContext::Heavy(..)).then(|| {
        HEAVY
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    });
    crate::templates::render(&theme.tera, job.template, &job.context(input)).map_err(|e| {
        Diagnostic::new(format!("cannot render {}: {}", job.path, error_chain(&e)))
            .with_hint("check the theme template named in the message (built-in or under themes/)")
    })
}

/// Reports rendering progress (a progress bar on a terminal); called from many threads.
pub trait Progress: Sync {
    fn start(&self, total: usize);
    fn advance(&self);
    fn finish(&self);
}

/// Renders every page of `pages`, in parallel: `(path, html)` in job order.
pub fn render_pages(
    theme: &Theme,
    input: &SiteInput,
    pages: &[PageJob],
    progress: Option<&dyn Progress>,
) -> Result<Vec<(String, String)>, Diagnostics> {
    if let Some(p) = progress {
        p.start(pages.len());
    }
    let results: Vec<Result<(String, String), Diagnostic>> = pages
        .par_iter()
        .map(|job| {
            let html = render_page(theme, input, job)?;
            if let Some(p) = progress {
                p.advance();
            }
            Ok((job.path.clone(), html))
        })
        .collect();
    if let Some(p) = progress {
        p.finish();
    }
    let mut diags = Diagnostics::new();
    let mut pages = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(page) => pages.push(page),
            Err(d) => diags.push(d),
        }
    }
    diags.finish(pages)
}
