"""Pool candidate papers for the short-query set, to be judged by hand.

    python3 -m venv /tmp/qvenv && /tmp/qvenv/bin/pip install bm25s numpy PyStemmer
    nice /tmp/qvenv/bin/python bench/short_queries/build_pool.py \
        ../shared/data/corpora/arxiv_cs_listings.jsonl.gz /tmp/pool.jsonl [--depth 30]

For every query in QUERIES, five independent rankings over the whole corpus (title + abstract)
each contribute their top DEPTH papers; the union is written, one candidate a line, with the
rank each method gave it, title and abstract, for a person to judge. paperboy's own search is
deliberately not used (it is what the set measures). The judging is manual: see README.md.

Methods:
  bm25       BM25 (bm25s, Snowball-stemmed, English stop words) of the query over title+abstract
  title      the same BM25 over titles only
  phrase     exact phrase match of the query and its hand-written variants (hyphen / space /
             no space, singular / plural) in title and abstract; ranked by title hits, then
             abstract hits, then how early the first hit is
  expand     BM25 over title+abstract of a hand-written expansion (synonyms, names of methods,
             related terms a domain expert would use)
  expphrase  exact phrase match of the expansion phrases (as `phrase`)
"""

from __future__ import annotations

import argparse
import gzip
import json
import re

# id, query text, phrase variants (besides the query itself), expansion (BM25 words),
# expansion phrases (exact match).
QUERIES = [
    (
        "q01",
        "causal self-attention",
        [
            "causal attention",
            "causal mask",
            "causal masking",
            "causally masked attention",
            "causal attention mask",
            "masked self-attention",
        ],
        "causal attention mask autoregressive decoder-only transformer bidirectional attention "
        "masking future tokens",
        ["causal attention", "causal mask", "attention mask", "bidirectional attention"],
    ),
    (
        "q02",
        "speculative decoding",
        ["speculative sampling", "speculative inference", "draft model", "draft tokens"],
        "draft model verify tokens speculative sampling lossless acceleration LLM inference "
        "Medusa EAGLE draft-then-verify",
        ["draft-then-verify", "draft model", "self-speculative", "speculative sampling"],
    ),
    (
        "q03",
        "mixture of experts routing",
        [
            "mixture-of-experts routing",
            "expert routing",
            "moe routing",
            "moe router",
            "router",
            "routing mechanism",
            "token routing",
            "expert selection",
        ],
        "MoE router expert selection load balancing top-k gating sparse experts routing collapse",
        ["load balancing loss", "expert selection", "top-k routing", "gating network"],
    ),
    (
        "q04",
        "in-context learning",
        ["in context learning", "icl", "few-shot prompting", "in-context examples"],
        "in-context learning demonstrations few-shot prompting transformers learn in context "
        "demonstration selection induction heads",
        [
            "demonstration selection",
            "in-context demonstrations",
            "learn in context",
            "in-context examples",
        ],
    ),
    (
        "q05",
        "state-space models",
        ["state space model", "state-space model", "ssm", "ssms", "mamba", "selective state space"],
        "Mamba S4 selective state space SSM linear recurrence sequence modeling",
        ["mamba", "selective state space", "structured state space", "linear recurrent"],
    ),
    (
        "q06",
        "RLHF reward hacking",
        ["reward hacking", "reward exploitation", "specification gaming", "reward gaming"],
        "reward hacking RLHF policy exploits reward model misspecified reward specification gaming",
        ["reward hacking", "specification gaming", "reward exploitation", "reward gaming"],
    ),
    (
        "q07",
        "LoRA fine-tuning",
        ["lora", "low-rank adaptation", "low rank adaptation", "lora finetuning", "lora adapters"],
        "low-rank adaptation LoRA parameter-efficient fine-tuning adapter rank PEFT",
        ["low-rank adaptation", "parameter-efficient fine-tuning", "lora", "peft"],
    ),
    (
        "q08",
        "text-to-video generation",
        ["text to video", "text-to-video", "t2v", "video generation", "text-to-video diffusion"],
        "text-to-video diffusion model video synthesis text prompt temporal consistency",
        ["video diffusion", "video generation", "video synthesis", "text-to-video"],
    ),
    (
        "q09",
        "3D gaussian splatting slam",
        ["gaussian splatting slam", "3dgs slam", "gs-slam", "gaussian slam", "splatting slam"],
        "gaussian splatting SLAM simultaneous localization mapping tracking RGB-D dense mapping 3DGS",
        ["simultaneous localization and mapping", "slam", "gaussian splatting"],
    ),
    (
        "q10",
        "graph neural network molecules",
        ["graph neural network", "molecular graph", "gnn", "molecules", "molecular property"],
        "molecular property prediction GNN message passing molecular graph drug chemistry atoms bonds",
        [
            "molecular property prediction",
            "molecular graph",
            "message passing",
            "molecular representation",
        ],
    ),
    (
        "q11",
        "attention sinks",
        ["attention sink", "attention sinks", "sink token", "sink tokens", "massive activations"],
        "attention sink first token massive activations streaming attention concentrates initial token",
        ["attention sink", "massive activations", "sink token", "first token"],
    ),
    (
        "q12",
        "model collapse",
        ["model collapse", "self-consuming", "recursive training", "synthetic data collapse"],
        "model collapse recursive training synthetic data self-consuming generative models "
        "generated data degradation",
        [
            "self-consuming",
            "recursive training",
            "trained on synthetic data",
            "model-generated data",
        ],
    ),
    (
        "q13",
        "reward model overoptimization",
        [
            "reward overoptimization",
            "reward over-optimization",
            "overoptimization",
            "over-optimization",
            "reward model overoptimization",
        ],
        "reward overoptimization Goodhart proxy reward model gold reward KL RLHF reward hacking",
        ["goodhart", "proxy reward", "over-optimization", "overoptimization"],
    ),
    (
        "q14",
        "chain-of-thought faithfulness",
        [
            "cot faithfulness",
            "faithful chain-of-thought",
            "unfaithful chain-of-thought",
            "faithfulness of chain-of-thought",
            "unfaithful reasoning",
            "faithful reasoning",
        ],
        "unfaithful chain-of-thought faithfulness reasoning trace explanation reflects actual "
        "computation CoT monitoring",
        ["unfaithful", "faithfulness", "cot monitoring", "post-hoc rationalization"],
    ),
    (
        "q15",
        "KV cache compression",
        [
            "kv cache compression",
            "kv cache eviction",
            "kv cache quantization",
            "key-value cache",
            "kv-cache",
            "kv cache",
        ],
        "KV cache eviction quantization key-value cache memory long context token pruning "
        "compression",
        ["kv cache eviction", "key-value cache", "kv cache quantization", "token eviction"],
    ),
    (
        "q16",
        "graph retrieval-augmented generation",
        [
            "graph rag",
            "graphrag",
            "graph-based rag",
            "knowledge graph rag",
            "graph-rag",
            "graph retrieval-augmented",
        ],
        "GraphRAG knowledge graph retrieval augmented generation graph-based RAG subgraph "
        "retrieval entities relations",
        ["graphrag", "graph rag", "knowledge graph", "graph-based retrieval"],
    ),
    (
        "q17",
        "vision-language-action models",
        ["vision language action", "vla", "vlas", "vision-language-action model"],
        "VLA robot manipulation policy vision language action model robotic foundation model",
        ["vla", "robot policy", "robotic manipulation", "vision-language-action"],
    ),
    (
        "q18",
        "diffusion language models",
        [
            "diffusion language model",
            "diffusion llm",
            "diffusion llms",
            "masked diffusion",
            "discrete diffusion",
            "dllm",
            "dllms",
        ],
        "masked diffusion language model discrete diffusion text generation LLaDA non-autoregressive "
        "denoising tokens",
        ["masked diffusion", "discrete diffusion", "llada", "diffusion llm"],
    ),
    (
        "q19",
        "machine unlearning LLMs",
        ["machine unlearning", "llm unlearning", "unlearning", "knowledge unlearning"],
        "unlearning large language models forget set retain set remove knowledge hazardous",
        ["llm unlearning", "forget set", "unlearning", "right to be forgotten"],
    ),
    (
        "q20",
        "membership inference attacks",
        ["membership inference", "membership inference attack", "mia", "mias"],
        "membership inference attack training data member privacy leakage shadow model",
        ["membership inference", "training data detection", "privacy attack", "shadow model"],
    ),
    (
        "q21",
        "prompt injection attacks",
        ["prompt injection", "indirect prompt injection", "prompt injection attack"],
        "prompt injection indirect injected instructions LLM agents tool outputs attack defense",
        ["indirect prompt injection", "injected instructions", "prompt injection"],
    ),
    (
        "q22",
        "post-training quantization",
        ["post training quantization", "ptq", "weight quantization", "low-bit quantization"],
        "post-training quantization PTQ LLM weights activations low-bit calibration GPTQ AWQ",
        ["gptq", "awq", "weight-only quantization", "low-bit"],
    ),
    (
        "q23",
        "sparse autoencoders interpretability",
        ["sparse autoencoder", "sparse autoencoders", "sae", "saes", "dictionary learning"],
        "sparse autoencoders SAE features interpretability dictionary learning monosemantic "
        "activations",
        ["sparse autoencoder", "dictionary learning", "monosemantic", "sae features"],
    ),
    (
        "q24",
        "direct preference optimization",
        ["dpo", "preference optimization", "direct preference"],
        "DPO preference optimization pairwise preferences chosen rejected alignment offline RLHF",
        ["dpo", "preference optimization", "chosen and rejected", "bradley-terry"],
    ),
    (
        "q25",
        "text-to-SQL",
        ["text to sql", "text2sql", "nl2sql", "nl-to-sql", "sql generation"],
        "text-to-SQL natural language to SQL database queries schema linking Spider BIRD",
        ["schema linking", "nl2sql", "sql queries", "text2sql"],
    ),
    (
        "q26",
        "RoPE length extrapolation",
        [
            "length extrapolation",
            "context extension",
            "context length extension",
            "rope",
            "rotary position embedding",
            "length generalization",
        ],
        "rotary position embedding RoPE context window extension length extrapolation position "
        "interpolation long context",
        [
            "rotary position",
            "position interpolation",
            "context window extension",
            "length extrapolation",
        ],
    ),
    (
        "q27",
        "out-of-distribution detection",
        [
            "ood detection",
            "out of distribution detection",
            "out-of-distribution detection",
            "ood detector",
        ],
        "out-of-distribution OOD detection open-set novelty detection anomaly classifier confidence "
        "energy score",
        ["ood detection", "open-set", "novelty detection", "in-distribution"],
    ),
    (
        "q28",
        "physics-informed neural networks",
        ["physics informed neural network", "pinn", "pinns", "physics-informed"],
        "PINN physics-informed neural network PDE residual loss partial differential equations",
        ["pinn", "pde residual", "partial differential equations", "physics-informed"],
    ),
    (
        "q29",
        "open-vocabulary object detection",
        [
            "open vocabulary detection",
            "open-vocabulary detection",
            "open-vocabulary object detection",
            "ovd",
            "open-vocabulary detector",
            "open-set object detection",
        ],
        "open-vocabulary object detection novel categories vision-language detector grounding "
        "zero-shot detection",
        ["open-vocabulary", "zero-shot object detection", "novel categories", "grounding dino"],
    ),
    (
        "q30",
        "tokenizer-free language models",
        [
            "tokenizer-free",
            "tokenization-free",
            "byte-level",
            "byte level",
            "character-level",
            "without tokenization",
            "tokenizer free",
        ],
        "byte-level tokenizer-free language model bytes characters patches tokenization-free "
        "subword tokenization",
        ["byte-level", "tokenization-free", "byte latent", "character-level"],
    ),
    (
        "q31",
        "grokking delayed generalization",
        ["grokking", "delayed generalization", "grok"],
        "grokking delayed generalization memorization modular arithmetic weight decay",
        ["grokking", "delayed generalization", "modular arithmetic"],
    ),
    (
        "q32",
        "lottery ticket hypothesis",
        ["lottery ticket", "lottery tickets", "winning ticket", "winning tickets"],
        "lottery ticket hypothesis winning tickets sparse subnetworks pruning at initialization "
        "iterative magnitude pruning",
        ["winning ticket", "sparse subnetwork", "iterative magnitude pruning", "lottery ticket"],
    ),
    (
        "q33",
        "entropy collapse RLVR",
        ["entropy collapse", "policy entropy", "rlvr", "entropy regularization"],
        "entropy collapse reinforcement learning verifiable rewards policy entropy exploration "
        "GRPO reasoning LLM",
        ["entropy collapse", "policy entropy", "verifiable rewards", "entropy"],
    ),
    (
        "q34",
        "neural architecture search",
        ["neural architecture search", "nas", "architecture search"],
        "neural architecture search NAS search space supernet differentiable architecture "
        "one-shot evolutionary",
        ["supernet", "search space", "darts", "architecture search"],
    ),
    (
        "q35",
        "DP-SGD",
        [
            "dp-sgd",
            "dp sgd",
            "dpsgd",
            "differentially private sgd",
            "differentially private stochastic gradient descent",
        ],
        "differentially private stochastic gradient descent DP-SGD gradient clipping noise "
        "privacy accounting training",
        ["differentially private training", "gradient clipping", "privacy accounting", "dp-sgd"],
    ),
    (
        "q36",
        "contextual bandits",
        ["contextual bandit", "contextual bandits", "contextual multi-armed bandit"],
        "contextual bandit regret exploration linear bandit UCB Thompson sampling arms context",
        ["linear bandit", "regret bound", "thompson sampling", "multi-armed bandit"],
    ),
    (
        "q37",
        "graph transformers",
        ["graph transformer", "graph transformers", "graph-transformer"],
        "graph transformer self-attention nodes positional encodings graph learning message passing "
        "structural encoding",
        [
            "graph transformer",
            "structural encoding",
            "laplacian positional",
            "attention over nodes",
        ],
    ),
    (
        "q38",
        "score distillation sampling",
        [
            "score distillation",
            "sds",
            "score distillation sampling",
            "variational score distillation",
        ],
        "score distillation sampling SDS text-to-3D diffusion prior DreamFusion optimization",
        ["score distillation", "text-to-3d", "dreamfusion", "diffusion prior"],
    ),
    (
        "q39",
        "token merging ViT",
        ["token merging", "tome", "token pruning", "token reduction", "merging tokens"],
        "token merging vision transformer token reduction pruning efficient ViT visual tokens",
        ["token merging", "token reduction", "token pruning", "vision transformer"],
    ),
    (
        "q40",
        "certified robustness",
        [
            "certified robustness",
            "certified defense",
            "certifiably robust",
            "randomized smoothing",
            "robustness certification",
            "provable robustness",
        ],
        "certified robustness randomized smoothing provable guarantees adversarial perturbations "
        "verification certified radius",
        ["randomized smoothing", "certified radius", "provably robust", "robustness verification"],
    ),
    (
        "q41",
        "emergent misalignment",
        ["emergent misalignment", "emergently misaligned", "broadly misaligned"],
        "emergent misalignment fine-tuning insecure code narrow finetuning broadly misaligned behavior",
        ["emergent misalignment", "misaligned", "insecure code", "narrow fine-tuning"],
    ),
    (
        "q42",
        "LLM sycophancy",
        ["sycophancy", "sycophantic", "sycophancy in llms"],
        "sycophancy sycophantic language models agree with user flattery user beliefs",
        ["sycophantic", "sycophancy", "agree with the user", "user pressure"],
    ),
    (
        "q43",
        "model merging",
        ["model merging", "merging models", "weight merging", "task arithmetic", "merged model"],
        "model merging task arithmetic task vectors weight averaging merge fine-tuned models TIES",
        ["task arithmetic", "task vectors", "weight averaging", "model merging"],
    ),
    (
        "q44",
        "contrastive decoding",
        ["contrastive decoding", "contrastive decoding strategy", "visual contrastive decoding"],
        "contrastive decoding amateur expert logits subtract distorted input hallucination decoding",
        ["contrastive decoding", "amateur model", "contrasting logits", "training-free decoding"],
    ),
    (
        "q45",
        "knowledge editing",
        ["knowledge editing", "model editing", "edit knowledge", "editing knowledge"],
        "knowledge editing model editing LLM update facts ROME MEMIT locate-then-edit",
        ["model editing", "rome", "memit", "locate-then-edit"],
    ),
    (
        "q46",
        "multi-agent debate",
        ["multi-agent debate", "multiagent debate", "llm debate", "debate"],
        "multi-agent debate LLM agents debate argue reach consensus reasoning factuality",
        ["debate", "multiple agents", "consensus", "multi-agent discussion"],
    ),
    (
        "q47",
        "repository-level code generation",
        ["repository-level", "repo-level", "repository level", "repository-level code", "codebase"],
        "repository-level code generation completion cross-file context codebase software "
        "engineering SWE-bench",
        ["cross-file", "repo-level", "swe-bench", "codebase"],
    ),
    (
        "q48",
        "catastrophic forgetting fine-tuning",
        ["catastrophic forgetting", "forgetting", "continual fine-tuning"],
        "catastrophic forgetting fine-tuning LLM continual learning retain previous capabilities "
        "knowledge loss",
        ["catastrophic forgetting", "continual learning", "forgetting", "retain"],
    ),
]

WORD = re.compile(r"[a-z0-9]+")


def norm(text: str) -> str:
    """Lower case, hyphens and punctuation to spaces, single spaces."""
    return " ".join(WORD.findall(text.lower()))


def phrase_hits(main: str, variants: list[str], title: str, abstract: str):
    """Score of a paper for exact phrase matches (hyphen/space/no-space, a plural s allowed):
    4 per title hit of the main phrase, 2 per title hit of a variant or abstract hit of the
    main phrase, 1 per abstract hit of a variant; with minus the first hit's position as a
    tie-break (earlier is better). None if nothing matches."""
    t, a = title, abstract  # already " " + norm(text) + " "
    score = 0
    first = 10**9
    for k, p in enumerate([main] + variants):
        n = norm(p)
        for f in {n, n.replace(" ", "")}:
            if f not in t and f not in a:
                continue
            pat = re.compile(r"(?<= )" + re.escape(f) + r"(?:s|es)?(?= )")
            th = len(pat.findall(t))
            hits = list(pat.finditer(a))
            score += (4 if k == 0 else 2) * th + (2 if k == 0 else 1) * len(hits)
            if hits:
                first = min(first, hits[0].start())
            elif th:
                first = min(first, 0)
    if score == 0:
        return None
    return score, -first


def phrase_rank(main, variants, docs, depth):
    scored = []
    for i, d in enumerate(docs):
        h = phrase_hits(main, variants, d["ntitle"], d["nsummary"])
        if h:
            scored.append((h, i))
    scored.sort(key=lambda x: x[0], reverse=True)
    return [i for _, i in scored[:depth]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="arxiv_cs_listings.jsonl.gz")
    parser.add_argument("out", help="candidates, one JSON a line")
    parser.add_argument("--depth", type=int, default=30)
    args = parser.parse_args()

    import bm25s
    import Stemmer

    docs = []
    with gzip.open(args.corpus, "rt") as fh:
        for line in fh:
            r = json.loads(line)
            docs.append(
                {
                    "id": r["id"],
                    "title": " ".join(r["title"].split()),
                    "summary": " ".join(r["summary"].split()),
                }
            )
            docs[-1]["ntitle"] = " " + norm(r["title"]) + " "
            docs[-1]["nsummary"] = " " + norm(r["summary"]) + " "
    stemmer = Stemmer.Stemmer("english")

    def index(texts):
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
            show_progress=False,
        )
        return retriever

    full = index([d["title"] + " " + d["summary"] for d in docs])
    titles = index([d["title"] for d in docs])

    def bm25(retriever, text, depth):
        q = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        res, scores = retriever.retrieve(q, k=depth, show_progress=False)
        return [int(i) for i, s in zip(res[0], scores[0]) if s > 0]

    with open(args.out, "w") as out:
        for qid, text, variants, expansion, exp_phrases in QUERIES:
            runs = {
                "bm25": bm25(full, text, args.depth),
                "title": bm25(titles, text, args.depth),
                "phrase": phrase_rank(text, variants, docs, args.depth),
                "expand": bm25(full, text + " " + expansion, args.depth),
                "expphrase": phrase_rank(exp_phrases[0], exp_phrases[1:], docs, args.depth),
            }
            pool: dict[int, dict[str, int]] = {}
            for method, ranked in runs.items():
                for rank, i in enumerate(ranked, 1):
                    pool.setdefault(i, {})[method] = rank
            order = sorted(pool, key=lambda i: (min(pool[i].values()), -len(pool[i])))
            for i in order:
                d = docs[i]
                out.write(
                    json.dumps(
                        {
                            "query-id": qid,
                            "query": text,
                            "corpus-id": d["id"],
                            "methods": pool[i],
                            "title": d["title"],
                            "summary": d["summary"],
                        }
                    )
                    + "\n"
                )
            print(qid, text, len(pool), flush=True)


if __name__ == "__main__":
    main()
