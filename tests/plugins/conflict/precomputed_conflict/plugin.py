from precomputed_core.plugins import hookimpl


@hookimpl
def precomputed_register_codecs(registry):
    registry.add("raw", "precomputed_conflict.codec:Nothing")
