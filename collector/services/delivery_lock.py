"""One delivery loop per destination at a time, across workers, in Redis.

A killed worker's lock expires after its TTL, so the destination is picked up again. Compare-and-
delete uses WATCH/MULTI rather than a Lua script so the embedded in-process Redis works too.
"""

import secrets

from redis.exceptions import WatchError

from fleetweb.redis import get_redis


class DeliveryLock:
    def __init__(self, destination_id: int, seconds: int) -> None:
        self.key = f"fleetweb:collector:deliver:{destination_id}"
        self.seconds = seconds
        self.token = secrets.token_hex(16).encode()

    def acquire(self) -> bool:
        return bool(get_redis().set(self.key, self.token, nx=True, ex=self.seconds))

    def extend(self) -> bool:
        """Renew the TTL; False if the lock expired and someone else holds it now."""
        return self._if_owner(expire=True)

    def release(self) -> bool:
        return self._if_owner(expire=False)

    def _if_owner(self, *, expire: bool) -> bool:
        with get_redis().pipeline() as pipe:
            try:
                pipe.watch(self.key)
                if pipe.get(self.key) != self.token:
                    pipe.unwatch()
                    return False
                pipe.multi()
                if expire:
                    pipe.expire(self.key, self.seconds)
                else:
                    pipe.delete(self.key)
                pipe.execute()
            except WatchError:
                return False
        return True
