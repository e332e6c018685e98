//! HTML to text lines for extraction. Headings become Markdown `#` lines and
//! tables `|` rows (with a separator after the header row) so the same
//! context rules apply as for Markdown; link targets are appended after the
//! link text when they differ, and `<code>`/`<pre>` content is kept.

use ego_tree::NodeRef;
use scraper::{Html, Node};

/// Elements nested deeper than this are read as plain text: the walk below
/// recurses once per level, and a page of 100,000 nested tags would
/// otherwise overflow the stack.
const MAX_DEPTH: usize = 256;

pub(crate) fn to_text(html: &str) -> String {
    let doc = Html::parse_document(html);
    let mut w = Writer::default();
    w.walk(doc.tree.root());
    w.flush_line();
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
    line: String,
    pre: usize,
    /// Lines flushed so far: tells a link whether its text is all on the
    /// current line.
    flushes: usize,
    /// Elements open above the node being walked (table cells included).
    depth: usize,
}

impl Writer {
    fn flush_line(&mut self) {
        self.flushes += 1;
        let t = self.line.trim();
        if !t.is_empty() {
            self.out.push_str(t);
            self.out.push('\n');
        }
        self.line.clear();
    }

    fn blank(&mut self) {
        self.flush_line();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn text(&mut self, t: &str) {
        if self.pre > 0 {
            let mut parts = t.split('\n');
            if let Some(first) = parts.next() {
                self.line.push_str(first);
            }
            for p in parts {
                self.flush_line();
                self.line.push_str(p);
            }
            return;
        }
        let mut space = t.starts_with(char::is_whitespace);
        for word in t.split_whitespace() {
            if space && !self.line.is_empty() && !self.line.ends_with(' ') {
                self.line.push(' ');
            }
            self.line.push_str(word);
            space = true;
        }
        if t.ends_with(char::is_whitespace) && !self.line.is_empty() {
            self.line.push(' ');
        }
    }

    fn walk(&mut self, node: NodeRef<'_, Node>) {
        if self.depth >= MAX_DEPTH {
            // `descendants` walks without recursion.
            for d in node.descendants() {
                if let Node::Text(t) = d.value() {
                    self.text(t);
                }
            }
            return;
        }
        self.depth += 1;
        self.element(node);
        self.depth -= 1;
    }

    fn element(&mut self, node: NodeRef<'_, Node>) {
        match node.value() {
            Node::Text(t) => self.text(t),
            Node::Element(e) => {
                let name = e.name();
                match name {
                    "script" | "style" | "noscript" | "head" | "template" | "svg" => {}
                    "br" => self.flush_line(),
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                        self.blank();
                        let level = usize::from(name.as_bytes()[1] - b'0');
                        self.line.push_str(&"#".repeat(level));
                        self.line.push(' ');
                        self.children(node);
                        self.blank();
                    }
                    "table" => {
                        self.blank();
                        self.table(node);
                        self.blank();
                    }
                    "a" => {
                        let (start, flushes) = (self.line.len(), self.flushes);
                        self.children(node);
                        if let Some(href) = e.attr("href") {
                            let href = href.trim();
                            // A block inside the link (`<br>`, `<p>`) flushed
                            // the line it started on: its text on this line
                            // is the whole line.
                            let from = if self.flushes == flushes { start } else { 0 };
                            let shown = self.line[from..].trim();
                            let external = href.contains("://") || href.starts_with("mailto:");
                            if external && shown != href && !shown.contains(href) {
                                let href = href.strip_prefix("mailto:").unwrap_or(href);
                                self.line.push_str(" <");
                                self.line.push_str(href);
                                self.line.push_str("> ");
                            }
                        }
                    }
                    "pre" => {
                        self.blank();
                        self.pre += 1;
                        self.children(node);
                        self.pre -= 1;
                        self.blank();
                    }
                    "li" => {
                        self.flush_line();
                        self.line.push_str("- ");
                        self.children(node);
                        self.flush_line();
                    }
                    "p" | "div" | "section" | "article" | "header" | "footer" | "ul" | "ol"
                    | "dl" | "blockquote" | "main" | "aside" | "nav" | "figure" | "figcaption" => {
                        self.blank();
                        self.children(node);
                        self.blank();
                    }
                    "dt" | "dd" | "tr" | "hr" | "caption" => {
                        self.flush_line();
                        self.children(node);
                        self.flush_line();
                    }
                    "td" | "th" => {
                        self.line.push(' ');
                        self.children(node);
                        self.line.push(' ');
                    }
                    _ => self.children(node),
                }
            }
            _ => self.children(node),
        }
    }

    fn children(&mut self, node: NodeRef<'_, Node>) {
        for c in node.children() {
            self.walk(c);
        }
    }

    /// Rows as `| a | b |`; a separator row after the first row made of `<th>`
    /// cells marks it as the header, as in Markdown.
    fn table(&mut self, node: NodeRef<'_, Node>) {
        let mut rows: Vec<(Vec<String>, bool)> = Vec::new();
        collect_rows(node, self.depth, &mut rows);
        for (i, (cells, header)) in rows.iter().enumerate() {
            self.out.push('|');
            for c in cells {
                self.out.push(' ');
                self.out.push_str(&c.replace('|', "/"));
                self.out.push_str(" |");
            }
            self.out.push('\n');
            if i == 0 && *header {
                self.out.push('|');
                for _ in cells {
                    self.out.push_str("---|");
                }
                self.out.push('\n');
            }
        }
    }
}

fn collect_rows(node: NodeRef<'_, Node>, depth: usize, rows: &mut Vec<(Vec<String>, bool)>) {
    if depth >= MAX_DEPTH {
        // Too deep to walk: what is left is one cell of plain text.
        let mut w = Writer {
            depth,
            ..Writer::default()
        };
        w.walk(node);
        w.flush_line();
        rows.push((
            vec![w.out.split_whitespace().collect::<Vec<_>>().join(" ")],
            false,
        ));
        return;
    }
    for c in node.children() {
        if let Node::Element(e) = c.value() {
            if e.name() == "tr" {
                let mut cells = Vec::new();
                let mut header = false;
                for cell in c.children() {
                    if let Node::Element(ce) = cell.value()
                        && (ce.name() == "td" || ce.name() == "th")
                    {
                        header |= ce.name() == "th";
                        let mut w = Writer {
                            depth: depth + 1,
                            ..Writer::default()
                        };
                        w.children(cell);
                        w.flush_line();
                        cells.push(w.out.split_whitespace().collect::<Vec<_>>().join(" "));
                    }
                }
                rows.push((cells, header));
            } else if e.name() != "table" {
                collect_rows(c, depth + 1, rows);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_headings_tables_links_code() {
        let html = r#"<html><head><title>t</title><script>var a="x.com"</script></head><body>
<h2>C2 Servers</h2><p>The beacon used <a href="hxxps://evil[.]com/a">this link</a> and
<code>bad[.]net</code>.</p>
<table><tr><th>Indicator</th><th>Type</th></tr><tr><td>1.2.3[.]4</td><td>C2</td></tr></table>
</body></html>"#;
        let t = super::to_text(html);
        assert!(t.contains("## C2 Servers\n"), "{t}");
        assert!(t.contains("<hxxps://evil[.]com/a>"), "{t}");
        assert!(t.contains("bad[.]net"), "{t}");
        assert!(
            t.contains("| Indicator | Type |\n|---|---|\n| 1.2.3[.]4 | C2 |"),
            "{t}"
        );
        assert!(!t.contains("x.com"), "{t}");
    }

    /// A line break inside a link cleared the line the link started on;
    /// its target was then looked for at a byte offset past the end of
    /// the new line (found by fuzzing).
    #[test]
    fn block_inside_a_link_after_text() {
        for html in [
            r#"<p>text <a href="http://evil.example/x">a<br>b</a></p>"#,
            r#"<p>éé <a href="http://e.example/">x<p>y</p></a></p>"#,
            r#"<p>ab<a href="http://e.example/"><br>é</a></p>"#,
        ] {
            let t = super::to_text(html);
            assert!(t.contains("<http://e"), "{html}: {t}");
        }
    }

    /// Deeply nested elements (a page of 100,000 `<b>` or nested tables)
    /// overflowed the stack of the recursive walk: the html fuzz target died on such a page.
    #[test]
    fn deep_nesting_is_read_without_recursion() {
        for html in [
            format!("<html><body>{}evil[.]example", "<b>".repeat(100_000)),
            format!(
                "<table><tr><td>{}evil[.]example",
                "<table><tr><td>".repeat(20_000)
            ),
        ] {
            let t = super::to_text(&html);
            assert!(t.contains("evil[.]example"), "{}", &t[..t.len().min(200)]);
        }
    }
}
