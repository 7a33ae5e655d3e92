"""Which recipe makes a small IOI transformer answer prompts it never saw? One variant per call.

Trains a 2-layer transformer (MLPs, no LayerNorm) on split ``"train"`` of :mod:`mi_tutor.tasks.ioi`
(mixed orders, the END cross-entropy, AdamW, batches of 128) and measures it on split ``"test"``
(held-out templates filled with held-out name pairs), 1000 prompts per order, every 1000 steps.
``key=value`` options (defaults in brackets): ``L`` layers [2], ``H`` heads [4], ``D`` d_model [64],
``M`` d_mlp [128], ``steps`` [3000], ``lr`` [3e-3], ``wd`` weight decay [0.01], ``B`` batch [128],
``seed`` [0], ``warmup`` [100], ``cos=1`` cosine decay to 0, ``fill`` the filler noise of
:func:`mi_tutor.tasks.ioi_train.noisy_fillers` [0], ``freeze=W_E,W_U`` parameters kept at their
initialisation, ``nomlp=1`` layers whose MLP is removed (zeroed and frozen), ``xr`` a fraction of
prompts whose two names are replaced by other tokens [0]: template words, or with ``K`` > 0 that many
extra "nonce name" tokens added to the vocabulary (never a held-out pair of real names).

With ``fill``, ``cos``, ``D``, ``M``, ``lr`` and ``steps`` alone the run is exactly
:func:`~mi_tutor.tasks.ioi_train.train_ioi` with ``IOITrainConfig(filler_noise=..., schedule="cosine")``
(the same weights, bit for bit). Run (one thread each; adds its row to ``bench/results/ioi_generalisation.json``)::

    PYTHONPATH=$PWD python bench/ioi_generalisation.py d128f10kcos lr=1e-3 D=128 M=256 steps=10000 fill=0.3 cos=1
"""
import sys, json, time, torch, torch.nn.functional as F
torch.set_num_threads(1)
from mi_tutor.tasks import ORDERS, ioi_batch
from mi_tutor.tasks import ioi as I
from mi_tutor.tasks.ioi_train import ioi_model_config, ioi_accuracy, end_logits
from mi_tutor.transformer import HookedTransformer
from mi_tutor.transformer.train import adamw_with_warmup
from mi_tutor.device import seed_everything
name=sys.argv[1]; kw=dict(a.split('=') for a in sys.argv[2:])
L=int(kw.get('L',2)); H=int(kw.get('H',4)); D=int(kw.get('D',64)); M=int(kw.get('M',128)); steps=int(kw.get('steps',3000))
lr=float(kw.get('lr',3e-3)); wd=float(kw.get('wd',0.01)); B=int(kw.get('B',128)); q=float(kw.get('fill',0)); seed=int(kw.get('seed',0))
warm=int(kw.get('warmup',100))
seed_everything(seed)
K=int(kw.get('K',0))
model=HookedTransformer(ioi_model_config(L,H,D//H,d_model=D,d_mlp=M or None, seed=seed, d_vocab=I.D_VOCAB+K)).train()
for Lz in [int(x) for x in kw.get('nomlp','').split(',') if x]:
    mlp=model.blocks[Lz].mlp
    for p in mlp.parameters(): p.data.zero_(); p.requires_grad_(False)
fr=kw.get('freeze','')
for p in fr.split(','):
    if p: getattr(model,p).requires_grad_(False)
opt,sched=adamw_with_warmup(model,lr,wd,warm)
if kw.get('cos'):
    import math
    sched=torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0,(s+1)/warm)*0.5*(1+math.cos(math.pi*min(s,steps)/steps)))
words=torch.tensor([I._ID[w] for w in I._words([I.TEMPLATES[t] for t in I.TRAIN_TEMPLATES])])
names=I.name_token_ids()
realnames=names
g=torch.Generator().manual_seed(seed+99)
def aug(tok):
    if q<=0: return tok
    tok=tok.clone()
    isname=torch.isin(tok,names); m=(torch.rand(tok.shape,generator=g)<q)&~isname
    m[:,0]=False; m[:,-1]=False
    tok[m]=words[torch.randint(len(words),(int(m.sum()),),generator=g)]
    return tok
xr=float(kw.get('xr',0))
pool=torch.cat([names[:len(I.TRAIN_NAMES)], torch.arange(I.D_VOCAB,I.D_VOCAB+K)]) if K else torch.cat([names[:len(I.TRAIN_NAMES)], words])
punct=torch.tensor([I._ID[w] for w in (',','.') if w in I._ID])
pool=pool[~torch.isin(pool,punct)]
def nonce(b):
    tok=b.tokens.clone(); io=b.io.clone()
    if xr<=0: return tok, io
    n=len(io); use=torch.rand(n,generator=g)<xr
    for i in use.nonzero().flatten().tolist():
        for _ in range(10):
            a,c=pool[torch.randperm(len(pool),generator=g)[:2]]
            bothnames=bool(torch.isin(torch.stack([a,c]),realnames).all())
            if bothnames and bool(I.is_held_out_pair(a,c)): continue
            rest=torch.ones(tok.shape[1],dtype=torch.bool); 
            for r in ("IO","S1","S2"): rest[b.pos[r][i]]=False
            if torch.isin(torch.stack([a,c]),tok[i][rest]).any(): continue
            tok[i,b.pos["IO"][i]]=a; tok[i,b.pos["S1"][i]]=c; tok[i,b.pos["S2"][i]]=c; io[i]=a; break
    return tok, io
test={o:ioi_batch(1000,seed=77000+k,order=o,split="test") for k,o in enumerate(ORDERS)}
train={o:ioi_batch(1000,seed=78000+k,order=o,split="train") for k,o in enumerate(ORDERS)}
curve={}
t0=time.time()
for step in range(1,steps+1):
    b=ioi_batch(B,seed=seed*1_000_003+step,order="mixed",split="train")
    tk,tio=nonce(b)
    loss=F.cross_entropy(end_logits(model,aug(tk)),tio)
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if step%1000==0 or step==steps:
        model.eval(); curve[step]=[round(ioi_accuracy(model,test[o]),3) for o in ORDERS]; model.train()
        print(name,step,round(loss.item(),4),curve[step],flush=True)
model.eval()
row=dict(name=name,cfg=kw,seconds=round(time.time()-t0),curve=curve,train=[round(ioi_accuracy(model,train[o]),3) for o in ORDERS],
         test=[round(ioi_accuracy(model,test[o]),3) for o in ORDERS])
print(json.dumps(row),flush=True)
from pathlib import Path
out = Path(__file__).parent / "results" / "ioi_generalisation.json"
results = json.loads(out.read_text()) if out.exists() else {"runs": []}
results["runs"] = [r for r in results["runs"] if r["name"] != name] + [row]
out.write_text(json.dumps(results, indent=1) + "\n")
torch.save(model.state_dict(),f'/tmp/ioi_generalisation_{name}.pt')  # the zoo's weights when this run is a recipe
