"""The names of the waiting queue's keys in Redis, for the tools and tests that read them
(the same rules as src/storage/redis/queue_keys.hpp and the scripts' prelude.lua).

Every key of a gate carries its gate's tag in braces: the gate's name for the performances
gate, the schedule for a schedule's two gates. A token's id is "<tag>.<uuid>"."""

GATES_IN_USE = "tp:gates"


def tag_of_gate(gate):
    return gate.split(":", 1)[1] if ":" in gate else gate


def gate(gate_name, part):
    if ":" in gate_name:
        kind, schedule = gate_name.split(":", 1)
        return f"tp:gate:{kind}:{{{schedule}}}:{part}"
    return f"tp:gate:{{{gate_name}}}:{part}"


def token(token_id):
    tag, uuid = token_id.rsplit(".", 1)
    return f"tp:token:{{{tag}}}:{uuid}"


def token_id_of(key):
    """The token id whose record is `key` (tp:token:{<tag>}:<uuid>)."""
    tag, uuid = key[len("tp:token:{"):].split("}:", 1)
    return f"{tag}.{uuid}"


def user_in_tag(tag, user):
    return f"tp:user:{{{tag}}}:{user}"


def user_latest(user):
    return f"tp:user:{user}"


def sold_out(schedule):
    return f"tp:soldout:{{{schedule}}}"


def held_by(redis, user):
    """The token `user` holds: their latest, while its tag's index still names it."""
    latest = redis("GET", user_latest(user))
    if latest is None or "." not in latest:
        return None
    return latest if redis("GET", user_in_tag(latest.rsplit(".", 1)[0], user)) == latest else None
