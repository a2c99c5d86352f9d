/**
 * The read caches of parent state keep promises: concurrent reads of one key share one request, and
 * a failed read is forgotten, so the next simulation asks again instead of inheriting the error.
 */
export function remember<K, V> (map: Map<K, Promise<V>>, key: K, p: Promise<V>): Promise<V> {
  map.set(key, p)
  p.catch(() => { if (map.get(key) === p) { map.delete(key) } })
  return p
}

/** The cached read of `key`, made by `read` on a miss. */
export async function memoized<K, V> (map: Map<K, Promise<V>>, key: K, read: () => Promise<V>): Promise<V> {
  return map.get(key) ?? remember(map, key, read())
}
