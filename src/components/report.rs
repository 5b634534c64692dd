//! A genome's evaluation: accuracy, size breakdown per operator and confusion matrix.
use crate::protocol::GenomeReport;
use leptos::prelude::*;

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.2}%", 100.0 * v)
    } else {
        "—".into()
    }
}

#[component]
pub fn GenomeReportView(report: GenomeReport) -> impl IntoView {
    let total: u64 = report.breakdown.iter().map(|o| o.bits).sum();
    let peak = report
        .breakdown
        .iter()
        .map(|o| o.bits)
        .max()
        .unwrap_or(1)
        .max(1);
    let classes = report.class_names.clone();
    let cmax = report
        .confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    view! {
        <div class="report" id="genome-report" data-genome=report.genome.to_string()
            data-predictions={report.predictions.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",")}
            data-accuracy=report.accuracy.to_string() data-n=report.n>
            <dl class="stats">
                <div><dt>"Accuracy"</dt><dd id="report-accuracy">{pct(report.accuracy)}
                    <small>{format!(" on {} ({} sequences)", report.eval_source, report.n)}</small></dd></div>
                <div><dt>"Float model"</dt><dd>{pct(report.float_accuracy)}</dd></div>
                <div><dt>"Agreement with float"</dt><dd>{pct(report.agreement)}</dd></div>
                <div><dt>"Size"</dt><dd>{format!("{} B", crate::group_digits(report.size.bytes))}
                    <small>{format!(" {:.3} of all-8", report.size.normalized)}</small></dd></div>
                <div><dt>"Bit-ops per step"</dt><dd>{crate::group_digits(report.size.bitops_per_step)}</dd></div>
                <div><dt>"Evaluated in"</dt><dd>{format!("{:.0} ms", report.elapsed_ms)}</dd></div>
            </dl>
            <div class="two-col">
                <section>
                    <h4>"Size per operator"</h4>
                    <table class="breakdown">
                        <thead><tr><th scope="col">"operator"</th><th scope="col">"bits"</th><th scope="col">"bytes"</th><th scope="col">"share"</th></tr></thead>
                        <tbody>
                            {report.breakdown.iter().filter(|o| o.bits > 0).map(|o| {
                                let bits = o.gene.map(|g| report.genome.bits()[g]);
                                view! {
                                    <tr>
                                        <th scope="row">{o.name.clone()}{bits.map(|b| format!(" ({b} b)"))}</th>
                                        <td>{crate::group_digits(o.bits)}</td>
                                        <td>{crate::group_digits(o.bits.div_ceil(8))}</td>
                                        <td class="share"><span class="fill" style:width=format!("{:.1}%", 100.0 * o.bits as f64 / peak as f64)></span>
                                            {format!("{:.1}%", 100.0 * o.bits as f64 / total.max(1) as f64)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
                <section>
                    <h4>"Confusion matrix"<small>" (rows: label, columns: prediction)"</small></h4>
                    <table class="confusion" id="confusion">
                        <thead><tr><th></th>{classes.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {report.confusion.iter().enumerate().map(|(r, row)| view! {
                                <tr>
                                    <th scope="row">{classes.get(r).cloned().unwrap_or_default()}</th>
                                    {row.iter().enumerate().map(|(c, &n)| {
                                        let a = n as f64 / cmax as f64;
                                        view! {
                                            <td class:diag=r == c class:zero=n == 0
                                                style:background=format!("color-mix(in srgb, var(--{}) {:.0}%, transparent)", if r == c { "good" } else { "bad" }, 80.0 * a)>
                                                {n.to_string()}
                                            </td>
                                        }
                                    }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            </div>
        </div>
    }
}
