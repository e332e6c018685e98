//! PDF text through pdf-extract, once the file is known to be safe for it.
//!
//! pdf-extract recurses where a PDF may loop: up a page's `/Parent` links
//! (for inherited `/MediaBox` and `/Resources`) and into form XObjects
//! drawn with `Do`. A loop there overflows the stack, which aborts the
//! process (no `catch_unwind` stops that), so both are walked here first,
//! without recursion, and a loop is an error.

use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::HashSet;

/// How far up a page's `/Parent` links are followed (real page trees are a
/// few levels deep).
const MAX_PAGE_TREE_DEPTH: usize = 256;
/// Forms drawn inside forms, deepest nesting followed.
const MAX_FORM_DEPTH: usize = 64;
/// Form drawings in a whole document: pdf-extract reads a form again at
/// each drawing, so a few forms drawing each other many times each would
/// take exponential time.
const MAX_FORM_DRAWS: usize = 100_000;

/// Each page's text, as `pdf_extract::extract_text_from_mem_by_pages` gives
/// it.
pub(crate) fn pages(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut doc = Document::load_mem(bytes).map_err(|e| e.to_string())?;
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|e| e.to_string())?;
    }
    check_page_tree(&doc)?;
    check_forms(&doc)?;
    let mut pages = Vec::new();
    for n in 1..=doc.get_pages().len() as u32 {
        let mut s = String::new();
        let mut out = pdf_extract::PlainTextOutput::new(&mut s);
        // As pdf-extract does: the text ends at the first page it cannot read.
        if pdf_extract::output_doc_page(&doc, &mut out, n).is_err() {
            break;
        }
        pages.push(s);
    }
    Ok(pages)
}

fn parent(doc: &Document, id: ObjectId) -> Option<ObjectId> {
    doc.get_dictionary(id)
        .and_then(|d| d.get(b"Parent"))
        .and_then(Object::as_reference)
        .ok()
}

/// Every page's `/Parent` chain ends, within [`MAX_PAGE_TREE_DEPTH`].
fn check_page_tree(doc: &Document) -> Result<(), String> {
    for (n, page) in doc.get_pages() {
        let mut seen = HashSet::new();
        let mut at = page;
        while let Some(up) = parent(doc, at) {
            if !seen.insert(at) || seen.len() > MAX_PAGE_TREE_DEPTH {
                return Err(format!(
                    "page {n}: the page tree's /Parent links loop (or run deeper than {MAX_PAGE_TREE_DEPTH})"
                ));
            }
            at = up;
        }
    }
    Ok(())
}

/// `obj`, or the object it refers to (as pdf-extract reads one).
fn deref<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Object> {
    match obj {
        Object::Reference(id) => doc.get_object(*id).ok(),
        o => Some(o),
    }
}

/// A dictionary entry, dereferenced, as a dictionary.
fn dict<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    deref(doc, d.get(key).ok()?)?.as_dict().ok()
}

/// The page's `/Resources`, inherited from the page tree as pdf-extract
/// looks them up (the chain is known to end).
fn page_resources(doc: &Document, page: ObjectId) -> Option<&Dictionary> {
    let mut at = Some(page);
    while let Some(id) = at {
        let d = doc.get_dictionary(id).ok()?;
        if let Some(r) = dict(doc, d, b"Resources") {
            return Some(r);
        }
        at = parent(doc, id);
    }
    None
}

/// The names a content stream draws with `Do`.
fn drawn_names(content: &[u8]) -> Vec<Vec<u8>> {
    let Ok(ops) = Content::decode(content) else {
        return Vec::new();
    };
    ops.operations
        .into_iter()
        .filter(|op| op.operator == "Do")
        .filter_map(|op| op.operands.first()?.as_name().ok().map(<[u8]>::to_vec))
        .collect()
}

fn stream_bytes(s: &Stream) -> Vec<u8> {
    s.decompressed_content()
        .unwrap_or_else(|_| s.content.clone())
}

/// Follows every `Do` from every page as pdf-extract would (a form's own
/// `/Resources`, else its caller's), with an explicit stack: a form drawn
/// while it is being drawn is a loop.
fn check_forms(doc: &Document) -> Result<(), String> {
    // A frame: a form being drawn, its resources, and the names it draws
    // that are still to follow.
    struct Frame<'a> {
        form: *const Stream,
        resources: &'a Dictionary,
        names: Vec<Vec<u8>>,
    }
    let mut draws = 0usize;
    for (n, page) in doc.get_pages() {
        let Some(resources) = page_resources(doc, page) else {
            continue;
        };
        let Ok(content) = doc.get_page_content(page) else {
            continue;
        };
        let mut stack = vec![Frame {
            form: std::ptr::null(),
            resources,
            names: drawn_names(&content),
        }];
        while let Some(top) = stack.last_mut() {
            let Some(name) = top.names.pop() else {
                stack.pop();
                continue;
            };
            let resources = top.resources;
            let Some(form) = dict(doc, resources, b"XObject")
                .and_then(|x| deref(doc, x.get(&name).ok()?))
                .and_then(|o| o.as_stream().ok())
            else {
                continue;
            };
            let id: *const Stream = form;
            if stack.iter().any(|f| std::ptr::eq(f.form, id)) {
                return Err(format!("page {n}: form XObjects draw each other in a loop"));
            }
            draws += 1;
            if stack.len() > MAX_FORM_DEPTH || draws > MAX_FORM_DRAWS {
                return Err(format!(
                    "page {n}: form XObjects nested deeper than {MAX_FORM_DEPTH} or drawn more than {MAX_FORM_DRAWS} times"
                ));
            }
            let names = drawn_names(&stream_bytes(form));
            stack.push(Frame {
                form: id,
                resources: dict(doc, &form.dict, b"Resources").unwrap_or(resources),
                names,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Document;

    /// A PDF of the given objects (numbered from 1, the catalog first).
    fn pdf(objs: &[&str]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        let size = objs.len() + 1;
        pdf.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
        for o in offsets {
            pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        pdf
    }

    const CATALOG: &str = "<< /Type /Catalog /Pages 2 0 R >>";
    /// The page tree's root, holding the `/MediaBox` and the font the page
    /// inherits; `xobjects` goes into its resources.
    fn pages(xobjects: &str) -> String {
        format!(
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] /Resources \
             << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> \
             /XObject << {xobjects} >> >> >>"
        )
    }
    fn stream(content: &str, dict: &str) -> String {
        format!(
            "<< /Length {} {dict} >>\nstream\n{content}\nendstream",
            content.len()
        )
    }
    const TEXT: &str = "BT /F1 12 Tf 72 712 Td (evil.example) Tj ET";

    /// A page that is its own parent sent pdf-extract's inherited-attribute
    /// lookup into endless recursion: a stack overflow that killed the
    /// process (found by fuzzing).
    #[test]
    fn page_tree_loop_is_an_error() {
        let page = |parent: &str| format!("<< /Type /Page /Parent {parent} /Contents 4 0 R >>");
        let doc = |parent| pdf(&[CATALOG, &pages(""), &page(parent), &stream(TEXT, "")]);
        // The same file with a sound tree reads (so the test builds real PDFs).
        let good = Document::from_bytes("r.pdf", &doc("2 0 R")).unwrap();
        assert!(good.text().contains("evil.example"), "{}", good.text());
        let e = Document::from_bytes("r.pdf", &doc("3 0 R")).unwrap_err();
        assert!(e.to_string().contains("/Parent links loop"), "{e}");
    }

    /// A form XObject that draws itself (directly, or through another) sent
    /// pdf-extract's `Do` into endless recursion, a stack overflow.
    #[test]
    fn form_drawing_itself_is_an_error() {
        let page = "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>";
        let doc = |form_content: &str| {
            pdf(&[
                CATALOG,
                &pages("/X0 5 0 R"),
                page,
                &stream(&format!("{TEXT} /X0 Do"), ""),
                &stream(
                    form_content,
                    "/Type /XObject /Subtype /Form /BBox [0 0 10 10]",
                ),
            ])
        };
        let good = Document::from_bytes("r.pdf", &doc(TEXT)).unwrap();
        assert!(good.text().contains("evil.example"), "{}", good.text());
        let e = Document::from_bytes("r.pdf", &doc("/X0 Do")).unwrap_err();
        assert!(e.to_string().contains("draw each other in a loop"), "{e}");
    }
}
