"""`python -m pipeline.local.llama_entry <llama_cpp.server args>`: llama-cpp-python's OpenAI-compatible server
with SIMA's Qwen tool-call chat format (`--chat_format sima-qwen-tools`) registered. `LlamaServer` runs this.
"""

from __future__ import annotations

from llama_cpp.server.__main__ import main

from pipeline.local.qwen_chat import register

if __name__ == "__main__":
    register()
    main()
