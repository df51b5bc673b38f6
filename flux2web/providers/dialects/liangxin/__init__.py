"""The `liangxin` dialect: LiangXin's task API, modelled on KIE's."""

from flux2web.providers.catalog import Dialect
from flux2web.providers.dialects.liangxin.capabilities import MODELS
from flux2web.providers.dialects.liangxin.client import LiangXinClient
from flux2web.providers.dialects.liangxin.sandbox import LiangXinSandbox

DIALECT = Dialect(
    name="liangxin",
    label="LiangXin",
    models=MODELS,
    client=LiangXinClient,
    sandbox=(LiangXinSandbox(),),
    sandbox_name="Sandbox LiangXin",
)
