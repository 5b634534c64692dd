use bitgru::synth::{random_model, random_sequences};
use bitgru::{Calibration, Genome, QuantGru, Scratch};
#[test]
fn diag() {
    let m = random_model(2024, 10, 32, 6);
    let cal_seqs = random_sequences(2024 ^ 0xCA1, 64, 49, 10);
    let refs: Vec<&[f32]> = cal_seqs.iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&m, &refs).unwrap();
    let q = QuantGru::prepare(&m, &cal, &Genome::uniform(8).unwrap()).unwrap();
    eprintln!("scales {:?}", q.scales);
    let mut s = Scratch::for_model(&q);
    let (mut e2, mut n) = (0.0f64, 0);
    let mut margins = vec![];
    for x in random_sequences(77, 400, 49, 10) {
        let hs = m.hidden_states(&x).unwrap();
        let hf = hs.last().unwrap();
        let codes = q.quantize_input(&x).unwrap();
        let li = q.run(&codes, &mut s).unwrap();
        let hq = q.state(&s);
        for (a, b) in hf.iter().zip(hq) {
            let d = *a as f64 - *b as f64 * q.scales[10];
            e2 += d * d;
            n += 1;
        }
        let lf = m.forward(&x).unwrap();
        let mut sorted = lf.clone();
        sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
        let agree = bitgru::model::argmax_f32(&lf) == bitgru::model::argmax_i32(&li);
        margins.push((sorted[0] - sorted[1], agree));
    }
    margins.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    eprintln!("h_T rms err {:.5}", (e2 / n as f64).sqrt());
    eprintln!("smallest margins {:?}", &margins[..15]);
}
