//! Each cell's forward pass against PyTorch's nn.RNN / nn.LSTM / nn.GRU on fixed weights and
//! inputs (fixtures/torch_cells.json, made by fixtures/make_fixtures.py), with variable
//! lengths, 1 layer and 2 bidirectional layers, on both backends.
use burn::tensor::{Device, Tensor};
use seqae_model::tensor::{tensor, to_vec};
use seqae_model::{Backend, Cell, CellWeights, RecurrentLayer};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn weights(
    case: &Value,
    cell: Cell,
    input: usize,
    hidden: usize,
    l: usize,
    sfx: &str,
    device: &Device,
) -> CellWeights {
    let w = |name: &str| floats(&case["weights"][format!("{name}_l{l}{sfx}")]["data"]);
    CellWeights::from_torch(
        cell,
        input,
        hidden,
        &w("weight_ih"),
        &w("weight_hh"),
        &w("bias_ih"),
        &w("bias_hh"),
        device,
    )
}

fn check_case(case: &Value, backend: Backend) {
    let device = backend.device().unwrap();
    let cell: Cell = case["cell"].as_str().unwrap().parse().unwrap();
    let (c, h) = (
        case["input"].as_u64().unwrap() as usize,
        case["hidden"].as_u64().unwrap() as usize,
    );
    let layers = case["layers"].as_u64().unwrap() as usize;
    let bidir = case["bidirectional"].as_bool().unwrap();
    let (b, t) = (
        case["batch"].as_u64().unwrap() as usize,
        case["steps"].as_u64().unwrap() as usize,
    );
    let lengths: Vec<usize> = case["lengths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let x = floats(&case["x"]);
    let d = if bidir { 2 } else { 1 };
    let inputs: Vec<Tensor<2>> = (0..t)
        .map(|s| {
            let v: Vec<f32> = (0..b)
                .flat_map(|r| x[(r * t + s) * c..(r * t + s + 1) * c].to_vec())
                .collect();
            tensor(v, [b, c], &device)
        })
        .collect();
    let masks: Vec<Option<Tensor<2>>> = (0..t)
        .map(|s| {
            Some(tensor(
                lengths.iter().map(|&l| (s < l) as u8 as f32).collect(),
                [b, 1],
                &device,
            ))
        })
        .collect();
    let mut steps = inputs;
    let mut h_n = Vec::new();
    let mut c_n = Vec::new();
    for l in 0..layers {
        let input = if l == 0 { c } else { d * h };
        let layer = RecurrentLayer {
            fwd: weights(case, cell, input, h, l, "", &device),
            bwd: bidir.then(|| weights(case, cell, input, h, l, "_reverse", &device)),
        };
        let out = layer.forward(&steps, &masks, None);
        for s in out.finals {
            h_n.extend(to_vec(s.h).unwrap());
            if let Some(cs) = s.c {
                c_n.extend(to_vec(cs).unwrap());
            }
        }
        steps = out.outputs;
    }
    let name = format!(
        "{} layers={layers} bidirectional={bidir} on {backend}",
        cell.name()
    );
    let close = |a: f32, e: f32, what: &str| {
        assert!(
            (a - e).abs() <= 2e-6 + 2e-5 * e.abs(),
            "{name}: {what}: {a} vs torch {e}"
        );
    };
    // outputs [B, T, D*H] at valid steps
    let want = floats(&case["output"]);
    let got: Vec<Vec<f32>> = steps.into_iter().map(|s| to_vec(s).unwrap()).collect();
    for r in 0..b {
        for s in 0..lengths[r] {
            for k in 0..d * h {
                close(
                    got[s][r * d * h + k],
                    want[(r * t + s) * d * h + k],
                    &format!("output[{r},{s},{k}]"),
                );
            }
        }
    }
    for (i, (a, e)) in h_n.iter().zip(floats(&case["h_n"])).enumerate() {
        close(*a, e, &format!("h_n[{i}]"));
    }
    if cell == Cell::Lstm {
        let want = floats(&case["c_n"]);
        assert_eq!(c_n.len(), want.len());
        for (i, (a, e)) in c_n.iter().zip(want).enumerate() {
            close(*a, e, &format!("c_n[{i}]"));
        }
    }
}

#[test]
fn cells_match_pytorch_on_both_backends() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/torch_cells.json"
    ))
    .unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for backend in Backend::CPU {
        for case in cases {
            check_case(case, backend);
        }
    }
}
