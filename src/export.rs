//! The C export as a zip: `<prefix>.h`, `<prefix>.c` (from `bitgru::io::c_export`), a usage
//! example and a README.
use crate::protocol::ModelInfo;
use crate::WebError;
use bitgru::io::c_export::{export_c, MAX_PREFIX_LEN};
use bitgru::QuantGru;
use std::io::Write;

/// A C identifier prefix from a task name (`row-mnist` → `row_mnist`), else `bitgru_model`.
pub fn c_prefix(task: &str) -> String {
    let p: String = task
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if p.is_empty() || p.len() > MAX_PREFIX_LEN || !p.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        "bitgru_model".into()
    } else {
        p
    }
}

fn example(prefix: &str) -> String {
    let up = prefix.to_ascii_uppercase();
    format!(
        r#"/* Usage example: reads whitespace-separated int8 input codes (steps x {up}_INPUT_SIZE,
 * quantized with the per-channel input scales listed in {prefix}.h) from stdin and prints the
 * predicted class.
 *
 *   cc -std=c99 -O2 -o example example.c {prefix}.c && ./example < codes.txt
 */
#include <stdio.h>
#include "{prefix}.h"

#define MAX_STEPS 1024

int main(void) {{
    static int8_t x[MAX_STEPS * {up}_INPUT_SIZE];
    size_t n = 0;
    int v;
    while (n < sizeof x && scanf("%d", &v) == 1) {{
        x[n++] = (int8_t)v;
    }}
    size_t steps = n / {up}_INPUT_SIZE;
    if (steps == 0) {{
        fprintf(stderr, "expected at least %d codes\n", {up}_INPUT_SIZE);
        return 1;
    }}
    int32_t logits[{up}_CLASSES];
    {prefix}_run(x, steps, logits);
    printf("%u\n", (unsigned){prefix}_argmax(logits));
    return 0;
}}
"#
    )
}

/// The zip (deflated) of the C export of `q`.
pub fn c_zip(q: &QuantGru, info: &ModelInfo) -> Result<Vec<u8>, WebError> {
    let prefix = c_prefix(&info.task);
    let c = export_c(q, &prefix)?;
    let readme = format!(
        "# {prefix}: integer-only GRU in C99\n\nExported by the bitgru web app from `{}` ({} task) \
         at genome `{}` ({} bytes in the size metric).\n\n- `{}`: API and constants\n- `{}`: the \
         kernel (no floating point, no malloc)\n- `example.c`: reads input codes, prints the class\n\n\
         Build: `cc -std=c99 -O2 -o example example.c {}`\n",
        info.file_name,
        info.task,
        q.genome,
        bitgru::size::report(&q.genome, q.dims()).bytes,
        c.header_name,
        c.source_name,
        c.source_name,
    );
    let zip_err = |e: zip::result::ZipError| WebError::Request {
        what: "zip",
        detail: e.to_string(),
    };
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in [
        (c.header_name.as_str(), c.header.as_str()),
        (c.source_name.as_str(), c.source.as_str()),
        ("example.c", example(&prefix).as_str()),
        ("README.md", readme.as_str()),
    ] {
        z.start_file(format!("{prefix}/{name}"), opts)
            .map_err(zip_err)?;
        z.write_all(text.as_bytes())
            .map_err(|e| WebError::Request {
                what: "zip",
                detail: e.to_string(),
            })?;
    }
    Ok(z.finish().map_err(zip_err)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_c_identifiers() {
        assert_eq!(c_prefix("row-mnist"), "row_mnist");
        assert_eq!(c_prefix("kws10"), "kws10");
        assert_eq!(c_prefix("10x"), "bitgru_model");
        assert_eq!(c_prefix(""), "bitgru_model");
        assert_eq!(c_prefix(&"a".repeat(40)), "bitgru_model");
    }
}
