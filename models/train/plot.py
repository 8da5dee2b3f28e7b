"""plot.py - the loss curve as loss.csv and a plain SVG drawing (no plotting
package needed): training loss per step, held-out loss where measured."""
import os


def write_curve(out_dir, curve):
    with open(os.path.join(out_dir, "loss.csv"), "w") as f:
        f.write("step,loss,heldout\n")
        for step, loss, test in curve:
            f.write(f"{step},{loss:.4f},{'' if test is None else f'{test:.4f}'}\n")
    with open(os.path.join(out_dir, "loss.svg"), "w") as f:
        f.write(svg(curve))


def svg(curve, w=640, h=360, pad=40):
    steps = [c[0] for c in curve]
    vals = [c[1] for c in curve] + [c[2] for c in curve if c[2] is not None]
    lo, hi = min(vals), max(vals)
    sx = (w - 2 * pad) / max(1, steps[-1] - steps[0])
    sy = (h - 2 * pad) / max(1e-9, hi - lo)

    def pt(step, v):
        return f"{pad + (step - steps[0]) * sx:.1f},{h - pad - (v - lo) * sy:.1f}"

    train = " ".join(pt(s, v) for s, v, _ in curve)
    test = " ".join(pt(s, t) for s, _, t in curve if t is not None)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">\n'
            f'<rect width="{w}" height="{h}" fill="white"/>\n'
            f'<polyline fill="none" stroke="steelblue" points="{train}"/>\n'
            f'<polyline fill="none" stroke="darkred" stroke-width="2" points="{test}"/>\n'
            f'<text x="{pad}" y="20">loss (blue: training, red: held out), '
            f'{lo:.2f} to {hi:.2f} nats, steps {steps[0]} to {steps[-1]}</text>\n</svg>\n')
