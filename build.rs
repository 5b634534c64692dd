//! Embeds the default models' measured accuracies (docs/RESULTS.md) and file sizes into the app
//! (`$OUT_DIR/catalog_gen.rs`, included by src/catalog.rs).
use std::fmt::Write as _;

fn pct(cell: &str) -> String {
    let v = cell.trim().trim_end_matches('%').trim();
    match v.parse::<f64>() {
        Ok(x) => format!("Some({x:?})"),
        Err(_) => "None".into(),
    }
}

/// The committed searches' smallest front genome within 1 point of all-8 accuracy
/// (`results/<task>/result.json`, `best_within_1pp`), for the Models page's "best mixed" column
/// and the Listen page's mixed genome.
fn best_within_1pp(out: &mut String) {
    out.push_str(
        "\n/// `(task, genome, accuracy, size reduction)` of results/<task>/result.json's best_within_1pp.\npub const BEST_WITHIN_1PP: &[(&str, &str, f64, f64)] = &[\n",
    );
    for task in ["row-mnist", "pixel-mnist", "kws4", "kws10"] {
        let path = format!("results/{task}/result.json");
        println!("cargo:rerun-if-changed={path}");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // A flat object: `"best_within_1pp": {"genome": "…", "accuracy": …, …}`.
        let Some(obj) = text
            .split_once("\"best_within_1pp\"")
            .and_then(|(_, rest)| rest.split_once('{'))
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(obj, _)| obj)
        else {
            continue;
        };
        let field = |name: &str| {
            obj.split_once(&format!("\"{name}\""))
                .and_then(|(_, rest)| rest.split_once(':'))
                .map(|(_, rest)| {
                    rest.split(',')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches('"')
                        .to_string()
                })
        };
        let (Some(genome), Some(acc), Some(red)) = (
            field("genome"),
            field("accuracy").and_then(|a| a.parse::<f64>().ok()),
            field("size_reduction").and_then(|a| a.parse::<f64>().ok()),
        ) else {
            continue;
        };
        if genome.len() == 17 && genome.bytes().all(|b| (b'2'..=b'8').contains(&b)) {
            let _ = writeln!(out, "    ({task:?}, {genome:?}, {acc:?}, {red:?}),");
        }
    }
    out.push_str("];\n");
}

fn main() {
    println!("cargo:rerun-if-changed=docs/RESULTS.md");
    println!("cargo:rerun-if-changed=assets/models");
    let results = std::fs::read_to_string("docs/RESULTS.md").unwrap_or_default();
    let mut out = String::from(
        "/// Rows of the first table of docs/RESULTS.md.\npub const RESULTS: &[ResultRow] = &[\n",
    );
    for line in results.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 10 || cells[2].parse::<usize>().is_err() {
            continue;
        }
        let _ = writeln!(
            out,
            "    ResultRow {{ task: {:?}, split: {:?}, n: {}, float: {}, ptq8: {}, ptq4: {}, qat8: {}, qat4: {}, bytes8: {}, bytes4: {} }},",
            cells[0], cells[1], cells[2], pct(cells[3]), pct(cells[4]), pct(cells[5]), pct(cells[6]), pct(cells[7]),
            cells[8].parse::<u64>().unwrap_or(0), cells[9].parse::<u64>().unwrap_or(0),
        );
    }
    out.push_str("];\n\n/// Bytes of the model files in assets/models/.\npub const FILE_BYTES: &[(&str, u64)] = &[\n");
    if let Ok(dir) = std::fs::read_dir("assets/models") {
        let mut files: Vec<_> = dir.flatten().collect();
        files.sort_by_key(|e| e.file_name());
        for e in files {
            let name = e.file_name().to_string_lossy().into_owned();
            if let (Some(stem), Ok(meta)) = (name.strip_suffix(".safetensors"), e.metadata()) {
                let _ = writeln!(out, "    ({stem:?}, {}),", meta.len());
            }
        }
    }
    out.push_str("];\n");
    best_within_1pp(&mut out);
    let path =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("catalog_gen.rs");
    std::fs::write(path, out).expect("write catalog_gen.rs");
}
