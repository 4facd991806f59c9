"""Skip a test that checks a choice made by counting o200k_base tokens when the encoding is absent.

Without ``../shared/data/tiktoken`` (and no network) token counts fall back to a byte estimate,
under which a rendering that trades line breaks for spaces saves nothing; the compressors then
rightly keep the text as it is, and a test of the token-saving rendering has nothing to check.
"""

from __future__ import annotations

import pytest
from shared_data import data_required

from headroom_mitm.addon.tokens import ENCODING_NAME, tokenizer_name

# a run that needs the data (.ci/run) runs these tests whatever happens, and they fail without it
requires_o200k = pytest.mark.skipif(
    tokenizer_name() != ENCODING_NAME and not data_required(),
    reason=f"the {ENCODING_NAME} encoding is not available (set TIKTOKEN_CACHE_DIR to ../shared/data/tiktoken): "
           "token counts are estimated, so token-saving renderings are not chosen",
)
