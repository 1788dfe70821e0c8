package io.cohort.statemachine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One rebalance's members ordered by load, and the moves that even them out (R4).
 *
 * <p>A move takes one slot from the heaviest member (lowest id among equals) to the lightest
 * (likewise). The slot is, in order of preference: the weight nearest half the gap (the biggest
 * improvement), one nobody reads yet (free to move: unheld, or held by the receiver itself), one
 * whose range borders what the receiver owns, then the first topic and the highest partition id.
 * These rules fix E2's exact outcome. To pick without scanning, each member that gives is indexed
 * by weight (and by who holds its slots), and each member that receives keeps its "frontier": the
 * slots bordering its own. Both are built the first time a member gives or receives and kept up to
 * date by every move.
 */
final class Balancer {
  private static final Comparator<MemberState> LIGHTEST = (a, b) -> {
    int c = Long.compare(a.loadMicros, b.loadMicros);
    return c != 0 ? c : Integer.compare(a.ordinal, b.ordinal);
  };
  private static final Comparator<MemberState> HEAVIEST = (a, b) -> {
    int c = Long.compare(b.loadMicros, a.loadMicros);
    return c != 0 ? c : Integer.compare(a.ordinal, b.ordinal);
  };
  /** Preferred first: the first topic, then the highest partition id. */
  static final Comparator<Slot> PREFERRED = (a, b) -> {
    int c = a.topic.compareTo(b.topic);
    return c != 0 ? c : Integer.compare(b.info.id, a.info.id);
  };

  private final GroupState group;
  private final MemberState[] members;
  /** Members by load, built once the intended owners are known ({@link #ranked}): null before. */
  private TreeSet<MemberState> lightest;
  private TreeSet<MemberState> heaviest;
  /** Slots each member owns, possibly with stale entries (moved away since): see {@link #owned}. */
  private final ArrayList<Slot>[] owned;
  private final Index[] index;
  private final Frontier[] frontier;
  private final HashMap<String, Neighbours> neighbours = new HashMap<>();

  @SuppressWarnings("unchecked")
  Balancer(GroupState group) {
    this.group = group;
    int m = group.members.size();
    members = new MemberState[m];
    owned = new ArrayList[m];
    index = new Index[m];
    frontier = new Frontier[m];
    int i = 0;
    for (MemberState member : group.members.values()) {
      member.ordinal = i;
      member.loadMicros = 0;
      member.incoming.clear();
      members[i] = member;
      owned[i] = new ArrayList<>();
      i++;
    }
  }

  /**
   * Before balancing: the slot's intended owner. The members are ordered by load only once the
   * first free slot is placed: one sort instead of a remove and an add per owned slot.
   */
  void own(Slot slot, MemberState member) {
    if (lightest != null) {
      lightest.remove(member);
    }
    slot.owner = member;
    member.loadMicros += slot.info.weightMicros;
    owned[member.ordinal].add(slot);
    if (lightest != null) {
      lightest.add(member);
    }
  }

  private TreeSet<MemberState> ranked() {
    if (lightest == null) {
      lightest = new TreeSet<>(LIGHTEST);
      lightest.addAll(Arrays.asList(members));
    }
    return lightest;
  }

  /** The least loaded member; among equals, a holder of one of the slot's parents, then by id. */
  MemberState lightestFor(Slot slot) {
    MemberState best = ranked().first();
    MemberState withParent = null;
    for (int parent : slot.info.parents) {
      Slot p = group.slot(slot.topic, parent);
      if (p != null && p.holder != null && p.holder.loadMicros == best.loadMicros
          && (withParent == null || p.holder.ordinal < withParent.ordinal)) {
        withParent = p.holder;
      }
    }
    return withParent != null ? withParent : best;
  }

  void balance(long maxWeight, long guard) {
    ranked();
    heaviest = new TreeSet<>(HEAVIEST);
    heaviest.addAll(lightest);
    while (guard-- > 0) {
      MemberState heavy = heaviest.first();
      MemberState light = lightest.first();
      long gap = heavy.loadMicros - light.loadMicros;
      if (gap <= maxWeight) {
        return;
      }
      Slot best = bestMove(heavy, light, gap);
      if (best == null) {
        return;
      }
      move(best, heavy, light);
    }
  }

  private Slot bestMove(MemberState heavy, MemberState light, long gap) {
    Index from = index(heavy);
    // Every weight is below the gap (gap > maxWeight): the one nearest gap / 2 improves most.
    Long below = from.all.floorKey(gap / 2);
    Long above = from.all.ceilingKey(gap - gap / 2);
    if (below == null && above == null) {
      return null; // it owns only slots pinned by a pending takeover
    }
    long w1 = below != null ? below : above;
    long w2 = above != null ? above : below;
    long d1 = Math.abs(2 * w1 - gap);
    long d2 = Math.abs(2 * w2 - gap);
    if (d1 < d2) {
      w2 = w1;
    } else if (d2 < d1) {
      w1 = w2;
    }

    Slot freeBordering = null;
    Slot bordering = null;
    for (Slot s : frontier(light).candidates) {
      long w = s.info.weightMicros;
      if (s.owner != heavy || s.oldSession || (w != w1 && w != w2)) {
        continue;
      }
      if (isFree(s, light)) {
        if (freeBordering == null || PREFERRED.compare(s, freeBordering) < 0) {
          freeBordering = s;
        }
      } else if (bordering == null || PREFERRED.compare(s, bordering) < 0) {
        bordering = s;
      }
    }
    if (freeBordering != null) {
      return freeBordering;
    }
    Slot free = first(first(from.byHolder.get(null), w1, w2), first(from.byHolder.get(light), w1, w2));
    if (free != null) {
      return free;
    }
    return bordering != null ? bordering : first(from.all, w1, w2);
  }

  private static boolean isFree(Slot s, MemberState receiver) {
    return s.holder == null || s.holder == receiver;
  }

  private static Slot first(TreeMap<Long, TreeSet<Slot>> byWeight, long w1, long w2) {
    if (byWeight == null) {
      return null;
    }
    TreeSet<Slot> a = byWeight.get(w1);
    TreeSet<Slot> b = w2 == w1 ? null : byWeight.get(w2);
    return first(a == null ? null : a.first(), b == null ? null : b.first());
  }

  private static Slot first(Slot a, Slot b) {
    if (a == null) {
      return b;
    }
    return b == null || PREFERRED.compare(a, b) <= 0 ? a : b;
  }

  private void move(Slot slot, MemberState heavy, MemberState light) {
    long w = slot.info.weightMicros;
    lightest.remove(heavy);
    heaviest.remove(heavy);
    lightest.remove(light);
    heaviest.remove(light);
    heavy.loadMicros -= w;
    light.loadMicros += w;
    lightest.add(heavy);
    heaviest.add(heavy);
    lightest.add(light);
    heaviest.add(light);

    slot.owner = light;
    owned[light.ordinal].add(slot);
    if (index[heavy.ordinal] != null) {
      index[heavy.ordinal].remove(slot, heavy);
    }
    if (index[light.ordinal] != null) {
      index[light.ordinal].add(slot, light);
    }
    Frontier gave = frontier[heavy.ordinal];
    Frontier got = frontier[light.ordinal];
    if (gave != null || got != null) {
      Neighbours around = neighbours(slot.topic);
      ArrayList<Slot> slots = group.slots.get(slot.topic);
      around.forEach(slot.info, id -> {
        Slot n = slots.get(id);
        if (n.owner != null) {
          if (gave != null) {
            gave.remove(n);
          }
          if (got != null) {
            got.add(n, light);
          }
        }
      });
      if (gave != null && gave.borders(slot)) {
        gave.candidates.add(slot);
      }
      if (got != null) {
        got.candidates.remove(slot);
      }
    }
  }

  /** The slots a member owns now, each once (moves may leave stale or repeated entries). */
  private List<Slot> owned(MemberState m) {
    ArrayList<Slot> list = owned[m.ordinal];
    ArrayList<Slot> out = new ArrayList<>(list.size());
    for (Slot s : list) {
      if (s.owner == m && !s.mark) {
        s.mark = true;
        out.add(s);
      }
    }
    for (Slot s : out) {
      s.mark = false;
    }
    owned[m.ordinal] = out;
    return out;
  }

  private Index index(MemberState m) {
    Index ix = index[m.ordinal];
    if (ix == null) {
      ix = new Index();
      for (Slot s : owned(m)) {
        if (!s.oldSession) {
          ix.add(s, m);
        }
      }
      index[m.ordinal] = ix;
    }
    return ix;
  }

  private Frontier frontier(MemberState m) {
    Frontier f = frontier[m.ordinal];
    if (f == null) {
      Frontier built = new Frontier();
      for (Slot s : owned(m)) {
        ArrayList<Slot> slots = group.slots.get(s.topic);
        neighbours(s.topic).forEach(s.info, id -> {
          Slot n = slots.get(id);
          if (n.owner != null) {
            built.add(n, m);
          }
        });
      }
      frontier[m.ordinal] = built;
      f = built;
    }
    return f;
  }

  private Neighbours neighbours(String topic) {
    return neighbours.computeIfAbsent(topic, t -> new Neighbours(group.slots.get(t)));
  }

  /** A giver's movable slots by weight, and by holder for those it does not hold itself. */
  private static final class Index {
    final TreeMap<Long, TreeSet<Slot>> all = new TreeMap<>();
    /** Holder (null: nobody) -> weight -> slots, for slots held by someone other than the owner. */
    final HashMap<MemberState, TreeMap<Long, TreeSet<Slot>>> byHolder = new HashMap<>();

    void add(Slot s, MemberState owner) {
      all.computeIfAbsent(s.info.weightMicros, w -> new TreeSet<>(PREFERRED)).add(s);
      if (s.holder != owner) {
        byHolder.computeIfAbsent(s.holder, h -> new TreeMap<>())
            .computeIfAbsent(s.info.weightMicros, w -> new TreeSet<>(PREFERRED)).add(s);
      }
    }

    void remove(Slot s, MemberState owner) {
      removeFrom(all, s);
      if (s.holder != owner) {
        TreeMap<Long, TreeSet<Slot>> m = byHolder.get(s.holder);
        if (m != null) {
          removeFrom(m, s);
        }
      }
    }

    private static void removeFrom(TreeMap<Long, TreeSet<Slot>> byWeight, Slot s) {
      TreeSet<Slot> set = byWeight.get(s.info.weightMicros);
      if (set != null && set.remove(s) && set.isEmpty()) {
        byWeight.remove(s.info.weightMicros);
      }
    }
  }

  /** A receiver's frontier: how many of its slots border each slot, and the bordering slots it does not own. */
  private static final class Frontier {
    final HashMap<Slot, int[]> count = new HashMap<>();
    final HashSet<Slot> candidates = new HashSet<>();

    void add(Slot n, MemberState self) {
      int[] c = count.computeIfAbsent(n, k -> new int[1]);
      if (c[0]++ == 0 && n.owner != self) {
        candidates.add(n);
      }
    }

    void remove(Slot n) {
      int[] c = count.get(n);
      if (c != null && --c[0] == 0) {
        count.remove(n);
        candidates.remove(n);
      }
    }

    boolean borders(Slot s) {
      return count.containsKey(s);
    }
  }

  /** A topic's partitions (as the group has them) by the first and last key of their ranges, to find adjacent ranges. */
  private static final class Neighbours {
    private final long[] firstKeys;
    private final int[] byFirst;
    private final long[] lastKeys;
    private final int[] byLast;

    Neighbours(List<Slot> slots) {
      int n = slots.size();
      Integer[] ids = new Integer[n];
      for (int i = 0; i < n; i++) {
        ids[i] = i;
      }
      Integer[] byLastIds = ids.clone();
      Arrays.sort(ids, (a, b) -> Long.compareUnsigned(slots.get(a).info.first, slots.get(b).info.first));
      Arrays.sort(byLastIds, (a, b) -> Long.compareUnsigned(slots.get(a).info.last, slots.get(b).info.last));
      firstKeys = new long[n];
      byFirst = new int[n];
      lastKeys = new long[n];
      byLast = new int[n];
      for (int i = 0; i < n; i++) {
        byFirst[i] = ids[i];
        firstKeys[i] = slots.get(ids[i]).info.first;
        byLast[i] = byLastIds[i];
        lastKeys[i] = slots.get(byLastIds[i]).info.last;
      }
    }

    /** Calls {@code f} with every partition whose range is adjacent to {@code p}'s (as {@link PartitionInfo#adjacentTo}). */
    void forEach(PartitionInfo p, java.util.function.IntConsumer f) {
      if (p.last != -1L) {
        each(firstKeys, byFirst, p.last + 1, f);
      }
      if (p.first != 0L) {
        each(lastKeys, byLast, p.first - 1, f);
      }
    }

    private static void each(long[] keys, int[] ids, long key, java.util.function.IntConsumer f) {
      int lo = 0;
      int hi = keys.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (Long.compareUnsigned(keys[mid], key) < 0) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      for (int i = lo; i < keys.length && keys[i] == key; i++) {
        f.accept(ids[i]);
      }
    }
  }
}
