/* The restricted unpickler (see pickle.h). A stack machine over the opcodes
 * torch.save uses; every read is bounds-checked, every object counted, and
 * nothing recurses, so a hostile pickle ends in an error, never a crash. */
#include "io/pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"

#define MAX_GLOBAL_LINE 128

struct ug_pickle {
    ug_pk_obj **pool; /* every object made, freed together */
    size_t n_pool, cap_pool;
    const ug_pk_obj *root;
};

/* The state of one load: input, stacks, memo, limits, messages. */
typedef struct machine {
    ug_pickle *p;
    const unsigned char *buf;
    size_t len, pos, op_pos;
    const ug_pk_limits *lim;
    const char *name;
    ug_error *err;
    ug_pk_obj **stack;
    size_t sp, cap_stack;
    size_t *marks;
    size_t n_marks;
    ug_pk_obj **memo;
    size_t n_memo, cap_memo;
    int ran_out; /* the input ended before the pickle */
} machine;

static const struct { unsigned char op; const char *name; } op_names[] = {
    {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"},
    {'F', "FLOAT"}, {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"},
    {'M', "BININT2"}, {'N', "NONE"}, {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"},
    {'S', "STRING"}, {'T', "BINSTRING"}, {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"},
    {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"}, {'c', "GLOBAL"}, {'d', "DICT"},
    {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"}, {'i', "INST"},
    {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"},
    {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"},
    {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"},
    {0x81, "NEWOBJ"}, {0x82, "EXT1"}, {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"},
    {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"},
    {0x8a, "LONG1"}, {0x8b, "LONG4"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"},
    {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"},
    {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"},
    {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"}, {0x95, "FRAME"}, {0x96, "BYTEARRAY8"},
    {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
};

static const char *op_name(unsigned char op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (op_names[i].op == op)
            return op_names[i].name;
    return "unknown";
}

static const struct { const char *module, *name; ug_pk_global g; } allowed[] = {
    {"collections", "OrderedDict", UG_PK_G_ORDERED_DICT},
    {"torch._utils", "_rebuild_tensor_v2", UG_PK_G_REBUILD_TENSOR_V2},
    {"torch", "FloatStorage", UG_PK_G_FLOAT_STORAGE},
    {"torch", "HalfStorage", UG_PK_G_HALF_STORAGE},
    {"torch", "BFloat16Storage", UG_PK_G_BFLOAT16_STORAGE},
    {"torch", "DoubleStorage", UG_PK_G_DOUBLE_STORAGE},
    {"torch", "LongStorage", UG_PK_G_LONG_STORAGE},
};

static size_t global_index(ug_pk_global g)
{
    size_t i = 0;
    while (i + 1 < sizeof allowed / sizeof allowed[0] && allowed[i].g != g)
        i++;
    return i;
}

const char *ug_pk_type_name(ug_pk_type t)
{
    static const char *names[] = {"None", "bool", "int", "str", "tuple", "list", "dict",
                                  "global", "storage", "tensor", "float"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

size_t ug_pk_dtype_size(ug_pk_dtype d)
{
    switch (d) {
    case UG_PK_F32: return 4;
    case UG_PK_F16: return 2;
    case UG_PK_BF16: return 2;
    case UG_PK_F64: return 8;
    case UG_PK_I64: return 8;
    }
    return 0;
}

/* Every error names the source and the byte offset of the opcode. */
#define FAIL(m, ...) fail_at(m, __VA_ARGS__)
__attribute__((format(printf, 2, 3))) static int fail_at(machine *m, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ug_fail(m->err, "%s: %s (at byte %zu)", m->name, msg, m->op_pos);
}

/* ---- objects ---------------------------------------------------------- */

static ug_pk_obj *new_obj(machine *m, ug_pk_type type)
{
    ug_pickle *p = m->p;
    if (p->n_pool >= m->lim->max_objects) {
        FAIL(m, "more than %zu objects", m->lim->max_objects);
        return NULL;
    }
    if (p->n_pool == p->cap_pool) {
        size_t cap = p->cap_pool ? 2 * p->cap_pool : 64;
        ug_pk_obj **pool = realloc(p->pool, cap * sizeof *pool);
        if (!pool) {
            FAIL(m, "out of memory");
            return NULL;
        }
        p->pool = pool;
        p->cap_pool = cap;
    }
    ug_pk_obj *o = calloc(1, sizeof *o);
    if (!o) {
        FAIL(m, "out of memory");
        return NULL;
    }
    o->type = type;
    o->depth = 1;
    p->pool[p->n_pool++] = o;
    return o;
}

/* Appends x to a container's items; depth follows the deepest child. */
static int add_item(machine *m, ug_pk_obj *c, ug_pk_obj *x)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4;
        ug_pk_obj **items = realloc(c->items, cap * sizeof *items);
        if (!items)
            return FAIL(m, "out of memory");
        c->items = items;
        c->cap = cap;
    }
    c->items[c->n++] = x;
    if (x->depth + 1 > c->depth)
        c->depth = x->depth + 1;
    if (c->depth > m->lim->max_depth)
        return FAIL(m, "objects nested deeper than %d levels", m->lim->max_depth);
    return 0;
}

static void free_pool(ug_pickle *p)
{
    for (size_t i = 0; i < p->n_pool; i++) {
        free(p->pool[i]->s);
        free(p->pool[i]->items);
        free(p->pool[i]);
    }
    free(p->pool);
}

/* ---- input and stacks ------------------------------------------------- */

static int need(machine *m, size_t n)
{
    if (n > m->len - m->pos) {
        m->ran_out = 1;
        return FAIL(m, "%s needs %zu bytes but the pickle ends", op_name(m->buf[m->op_pos]), n);
    }
    return 0;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int push(machine *m, ug_pk_obj *o)
{
    if (!o)
        return -1;
    if (m->sp == m->cap_stack) {
        if (m->sp >= m->lim->max_objects)
            return FAIL(m, "stack deeper than %zu entries", m->lim->max_objects);
        size_t cap = m->cap_stack ? 2 * m->cap_stack : 64;
        ug_pk_obj **s = realloc(m->stack, cap * sizeof *s);
        if (!s)
            return FAIL(m, "out of memory");
        m->stack = s;
        m->cap_stack = cap;
    }
    m->stack[m->sp++] = o;
    return 0;
}

/* The bottom of the current frame: the last MARK, or 0. */
static size_t frame_base(const machine *m) { return m->n_marks ? m->marks[m->n_marks - 1] : 0; }

static ug_pk_obj *pop(machine *m)
{
    if (m->sp <= frame_base(m)) {
        FAIL(m, "%s on an empty stack", op_name(m->buf[m->op_pos]));
        return NULL;
    }
    return m->stack[--m->sp];
}

static ug_pk_obj *top(machine *m)
{
    if (m->sp <= frame_base(m)) {
        FAIL(m, "%s on an empty stack", op_name(m->buf[m->op_pos]));
        return NULL;
    }
    return m->stack[m->sp - 1];
}

/* Pops the items above the last MARK and the MARK; *base is where they start. */
static int pop_mark(machine *m, size_t *base)
{
    if (m->n_marks == 0)
        return FAIL(m, "%s without a MARK", op_name(m->buf[m->op_pos]));
    *base = m->marks[--m->n_marks];
    return 0;
}

/* ---- opcodes ---------------------------------------------------------- */

static int do_string(machine *m, size_t n)
{
    if (need(m, n) < 0)
        return -1;
    const char *s = (const char *)m->buf + m->pos;
    if (memchr(s, '\0', n))
        return FAIL(m, "a string contains a NUL byte");
    ug_pk_obj *o = new_obj(m, UG_PK_STR);
    if (!o)
        return -1;
    if (!(o->s = malloc(n + 1)))
        return FAIL(m, "out of memory");
    memcpy(o->s, s, n);
    o->s[n] = '\0';
    m->pos += n;
    return push(m, o);
}

static int do_int(machine *m, int64_t v)
{
    ug_pk_obj *o = new_obj(m, UG_PK_INT);
    if (!o)
        return -1;
    o->i = v;
    return push(m, o);
}

/* LONG1: a little-endian two's complement integer of n bytes (n <= 8 here). */
static int do_long1(machine *m)
{
    if (need(m, 1) < 0)
        return -1;
    size_t n = m->buf[m->pos++];
    if (n > 8)
        return FAIL(m, "LONG1 of %zu bytes is larger than 64 bits", n);
    if (need(m, n) < 0)
        return -1;
    uint64_t u = le(m->buf + m->pos, (int)n);
    if (n > 0 && n < 8 && (m->buf[m->pos + n - 1] & 0x80))
        u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    m->pos += n;
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return do_int(m, v);
}

/* Pushes the allowed global module.name, or refuses it by name. */
static int push_global(machine *m, const char *module, size_t ml, const char *name, size_t nl)
{
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strlen(allowed[i].module) == ml && memcmp(allowed[i].module, module, ml) == 0 &&
            strlen(allowed[i].name) == nl && memcmp(allowed[i].name, name, nl) == 0) {
            ug_pk_obj *o = new_obj(m, UG_PK_GLOBAL);
            if (!o)
                return -1;
            o->which = allowed[i].g;
            return push(m, o);
        }
    }
    char a[MAX_GLOBAL_LINE + 8], b[MAX_GLOBAL_LINE + 8];
    return FAIL(m, "global '%s %s' is not allowed", ug_printable_n(a, sizeof a, module, ml),
                ug_printable_n(b, sizeof b, name, nl));
}

static int do_global(machine *m)
{
    const char *start = (const char *)m->buf + m->pos, *nl2 = NULL;
    size_t avail = m->len - m->pos, rest = 0;
    const char *nl1 = memchr(start, '\n', avail < MAX_GLOBAL_LINE ? avail : MAX_GLOBAL_LINE);
    if (nl1) {
        rest = avail - (size_t)(nl1 - start) - 1;
        nl2 = memchr(nl1 + 1, '\n', rest < MAX_GLOBAL_LINE ? rest : MAX_GLOBAL_LINE);
    }
    if (!nl2) {
        m->ran_out = nl1 ? rest < MAX_GLOBAL_LINE : avail < MAX_GLOBAL_LINE;
        return FAIL(m, "GLOBAL without two newline-terminated names");
    }
    m->pos += (size_t)(nl2 - start) + 1;
    return push_global(m, start, (size_t)(nl1 - start), nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

/* STACK_GLOBAL (protocol 4): GLOBAL with the two names on the stack. */
static int do_stack_global(machine *m)
{
    ug_pk_obj *name = pop(m), *module = name ? pop(m) : NULL;
    if (!module)
        return -1;
    if (module->type != UG_PK_STR || name->type != UG_PK_STR)
        return FAIL(m, "STACK_GLOBAL of a %s and a %s", ug_pk_type_name(module->type),
                    ug_pk_type_name(name->type));
    return push_global(m, module->s, strlen(module->s), name->s, strlen(name->s));
}

static int do_tuple(machine *m, size_t base)
{
    ug_pk_obj *t = new_obj(m, UG_PK_TUPLE);
    if (!t)
        return -1;
    for (size_t i = base; i < m->sp; i++)
        if (add_item(m, t, m->stack[i]) < 0)
            return -1;
    m->sp = base;
    return push(m, t);
}

static int do_setitems(machine *m, size_t base)
{
    if ((m->sp - base) % 2)
        return FAIL(m, "SETITEMS with an odd number of items");
    if (base <= frame_base(m) || base == 0)
        return FAIL(m, "SETITEMS without a dict below the MARK");
    ug_pk_obj *d = m->stack[base - 1];
    if (d->type != UG_PK_DICT)
        return FAIL(m, "SETITEM(S) on a %s", ug_pk_type_name(d->type));
    for (size_t i = base; i < m->sp; i += 2) {
        /* Only string keys (a state_dict is keyed by names) and int ones (an
         * optimiser's state, by parameter index). A repeated key is kept
         * here and refused when the names are collected. */
        if (m->stack[i]->type != UG_PK_STR && m->stack[i]->type != UG_PK_INT)
            return FAIL(m, "a dict key is a %s, not a str or an int",
                        ug_pk_type_name(m->stack[i]->type));
        if (add_item(m, d, m->stack[i]) < 0 || add_item(m, d, m->stack[i + 1]) < 0)
            return -1;
    }
    m->sp = base;
    return 0;
}

/* APPENDS: the items above the MARK go into the list below it. */
static int do_appends(machine *m, size_t base)
{
    if (base <= frame_base(m) || base == 0)
        return FAIL(m, "%s without a list below", op_name(m->buf[m->op_pos]));
    ug_pk_obj *l = m->stack[base - 1];
    if (l->type != UG_PK_LIST)
        return FAIL(m, "%s on a %s", op_name(m->buf[m->op_pos]), ug_pk_type_name(l->type));
    for (size_t i = base; i < m->sp; i++)
        if (add_item(m, l, m->stack[i]) < 0)
            return -1;
    m->sp = base;
    return 0;
}

static int do_setitem(machine *m)
{
    /* SETITEM is SETITEMS with a virtual MARK two entries down. */
    if (m->sp < frame_base(m) + 3)
        return FAIL(m, "SETITEM needs a dict, a key and a value on the stack");
    return do_setitems(m, m->sp - 2);
}

static int is_int(const ug_pk_obj *o) { return o->type == UG_PK_INT; }

static int int_tuple(machine *m, const ug_pk_obj *t, int64_t *out, const char *what)
{
    if (t->type != UG_PK_TUPLE)
        return FAIL(m, "_rebuild_tensor_v2: %s is a %s, not a tuple", what,
                    ug_pk_type_name(t->type));
    if (t->n > UG_PK_MAX_DIMS)
        return FAIL(m, "_rebuild_tensor_v2: %s has %zu dimensions, at most %d are supported",
                    what, t->n, UG_PK_MAX_DIMS);
    for (size_t i = 0; i < t->n; i++) {
        if (!is_int(t->items[i]))
            return FAIL(m, "_rebuild_tensor_v2: %s[%zu] is not an int", what, i);
        out[i] = t->items[i]->i;
    }
    return 0;
}

static int empty_dict(const ug_pk_obj *o) { return o->type == UG_PK_DICT && o->n == 0; }

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]):
 * recorded, not run; pt_read checks it against the storage. */
static int rebuild_tensor(machine *m, const ug_pk_obj *args)
{
    if (args->n != 6 && args->n != 7)
        return FAIL(m, "_rebuild_tensor_v2 with %zu arguments (6 or 7 expected)", args->n);
    ug_pk_obj *const *a = args->items;
    if (a[0]->type != UG_PK_STORAGE)
        return FAIL(m, "_rebuild_tensor_v2: the storage is a %s", ug_pk_type_name(a[0]->type));
    if (!is_int(a[1]))
        return FAIL(m, "_rebuild_tensor_v2: the storage offset is not an int");
    if (a[4]->type != UG_PK_BOOL)
        return FAIL(m, "_rebuild_tensor_v2: requires_grad is not a bool");
    if (!empty_dict(a[5]))
        return FAIL(m, "_rebuild_tensor_v2: backward hooks are not allowed");
    if (args->n == 7 && a[6]->type != UG_PK_NONE && !empty_dict(a[6]))
        return FAIL(m, "_rebuild_tensor_v2: tensor metadata is not allowed");
    if (a[2]->type == UG_PK_TUPLE && a[3]->type == UG_PK_TUPLE && a[2]->n != a[3]->n)
        return FAIL(m, "_rebuild_tensor_v2: size has %zu dimensions but stride %zu", a[2]->n,
                    a[3]->n);
    ug_pk_obj *t = new_obj(m, UG_PK_TENSOR);
    if (!t)
        return -1;
    t->storage = a[0];
    t->offset = a[1]->i;
    if (int_tuple(m, a[2], t->size, "size") < 0 || int_tuple(m, a[3], t->stride, "stride") < 0)
        return -1;
    t->ndim = (int)a[2]->n;
    return push(m, t);
}

static int do_reduce(machine *m)
{
    ug_pk_obj *args = pop(m), *fn = args ? pop(m) : NULL;
    if (!fn)
        return -1;
    if (fn->type != UG_PK_GLOBAL)
        return FAIL(m, "REDUCE calls a %s", ug_pk_type_name(fn->type));
    if (args->type != UG_PK_TUPLE)
        return FAIL(m, "REDUCE arguments are a %s, not a tuple", ug_pk_type_name(args->type));
    switch (fn->which) {
    case UG_PK_G_ORDERED_DICT: {
        if (args->n != 0)
            return FAIL(m, "OrderedDict called with arguments");
        ug_pk_obj *d = new_obj(m, UG_PK_DICT);
        if (!d)
            return -1;
        d->i = 1; /* made by OrderedDict: BUILD may follow */
        return push(m, d);
    }
    case UG_PK_G_REBUILD_TENSOR_V2:
        return rebuild_tensor(m, args);
    default:
        return FAIL(m, "calling '%s %s' is not allowed", allowed[global_index(fn->which)].module,
                    allowed[global_index(fn->which)].name);
    }
}

/* ('storage', storage class, key, location, numel) -> a storage reference.
 * The legacy format adds a sixth item, a view of the storage, which only
 * PyTorch before 0.4 wrote (with tensors this reader does not know). */
static int do_binpersid(machine *m)
{
    ug_pk_obj *pid = pop(m);
    if (!pid)
        return -1;
    ug_pk_obj *const *a = pid->items;
    if (pid->type != UG_PK_TUPLE || (pid->n != 5 && pid->n != 6) || a[0]->type != UG_PK_STR ||
        strcmp(a[0]->s, "storage") != 0)
        return FAIL(m, "persistent id is not a ('storage', type, key, location, numel) tuple");
    if (pid->n == 6 && a[5]->type != UG_PK_NONE)
        return FAIL(m, "persistent id: a view of a storage (PyTorch before 0.4) is not supported");
    if (a[1]->type != UG_PK_GLOBAL || a[1]->which < UG_PK_G_FLOAT_STORAGE)
        return FAIL(m, "persistent id: the storage type is not a storage class");
    if (a[2]->type != UG_PK_STR || a[3]->type != UG_PK_STR)
        return FAIL(m, "persistent id: the key or location is not a str");
    if (!is_int(a[4]) || a[4]->i < 0)
        return FAIL(m, "persistent id: numel is not a non-negative int");
    ug_pk_obj *s = new_obj(m, UG_PK_STORAGE);
    if (!s)
        return -1;
    s->dtype = (ug_pk_dtype)(a[1]->which - UG_PK_G_FLOAT_STORAGE);
    size_t kl = strlen(a[2]->s);
    if (!(s->s = malloc(kl + 1)))
        return FAIL(m, "out of memory");
    memcpy(s->s, a[2]->s, kl + 1);
    s->i = a[4]->i;
    return push(m, s);
}

/* BUILD: only an OrderedDict's instance state (the state_dict's _metadata),
 * which carries no tensors and is dropped. */
static int do_build(machine *m)
{
    ug_pk_obj *state = pop(m), *obj = state ? top(m) : NULL;
    if (!obj)
        return -1;
    if (obj->type != UG_PK_DICT || obj->i != 1)
        return FAIL(m, "BUILD on a %s is not allowed", ug_pk_type_name(obj->type));
    if (state->type != UG_PK_NONE && state->type != UG_PK_DICT)
        return FAIL(m, "BUILD with a %s state is not allowed", ug_pk_type_name(state->type));
    return 0;
}

static int do_put(machine *m, size_t idx)
{
    ug_pk_obj *o = top(m);
    if (!o)
        return -1;
    /* The pickler numbers memo entries 0, 1, 2, ...: a larger index is hostile. */
    if (idx > m->n_memo)
        return FAIL(m, "memo index %zu skips ahead of the %zu entries so far", idx, m->n_memo);
    if (idx == m->n_memo) {
        if (m->n_memo == m->cap_memo) {
            size_t cap = m->cap_memo ? 2 * m->cap_memo : 64;
            ug_pk_obj **memo = realloc(m->memo, cap * sizeof *memo);
            if (!memo)
                return FAIL(m, "out of memory");
            m->memo = memo;
            m->cap_memo = cap;
        }
        m->n_memo++;
    }
    m->memo[idx] = o;
    return 0;
}

static int do_get(machine *m, size_t idx)
{
    if (idx >= m->n_memo)
        return FAIL(m, "memo index %zu is not set", idx);
    return push(m, m->memo[idx]);
}

static int step(machine *m, int *stop)
{
    unsigned char op = m->buf[m->pos++];
    size_t base;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(m, 1) < 0)
            return -1;
        if (m->buf[m->pos] < 2 || m->buf[m->pos] > 5)
            return FAIL(m, "pickle protocol %d is not supported", m->buf[m->pos]);
        m->pos++;
        return 0;
    case 0x95: /* FRAME: a length hint; the opcodes inside are read as usual */
        if (need(m, 8) < 0)
            return -1;
        if (le(m->buf + m->pos, 8) > m->len - m->pos - 8) {
            m->ran_out = 1;
            return FAIL(m, "FRAME is longer than the rest of the pickle");
        }
        m->pos += 8;
        return 0;
    case '}': return push(m, new_obj(m, UG_PK_DICT));
    case ')': return push(m, new_obj(m, UG_PK_TUPLE));
    case ']': return push(m, new_obj(m, UG_PK_LIST));
    case 'a':
        if (m->sp < frame_base(m) + 2)
            return FAIL(m, "APPEND needs a list and an item on the stack");
        return do_appends(m, m->sp - 1);
    case 'e': return pop_mark(m, &base) < 0 ? -1 : do_appends(m, base);
    case 'N': return push(m, new_obj(m, UG_PK_NONE));
    case 0x88: case 0x89: {
        ug_pk_obj *o = new_obj(m, UG_PK_BOOL);
        if (o)
            o->i = op == 0x88;
        return push(m, o);
    }
    case '(':
        if (m->n_marks >= (size_t)m->lim->max_depth)
            return FAIL(m, "more than %d open MARKs", m->lim->max_depth);
        m->marks[m->n_marks++] = m->sp;
        return 0;
    case 's': return do_setitem(m);
    case 'u': return pop_mark(m, &base) < 0 ? -1 : do_setitems(m, base);
    case 't': return pop_mark(m, &base) < 0 ? -1 : do_tuple(m, base);
    case 0x85: case 0x86: case 0x87: {
        size_t k = (size_t)(op - 0x84);
        if (m->sp < frame_base(m) + k)
            return FAIL(m, "%s on a stack of fewer than %zu items", op_name(op), k);
        return do_tuple(m, m->sp - k);
    }
    case 'X':
        if (need(m, 4) < 0)
            return -1;
        m->pos += 4;
        return do_string(m, (size_t)le(m->buf + m->pos - 4, 4));
    case 0x8c:
        if (need(m, 1) < 0)
            return -1;
        m->pos += 1;
        return do_string(m, m->buf[m->pos - 1]);
    case 'K': case 'M': case 'J': {
        int n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
        if (need(m, (size_t)n) < 0)
            return -1;
        uint64_t u = le(m->buf + m->pos, n);
        m->pos += (size_t)n;
        return do_int(m, op == 'J' ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u);
    }
    case 0x8a: return do_long1(m);
    case 'G': { /* BINFLOAT: a big-endian IEEE double */
        if (need(m, 8) < 0)
            return -1;
        uint64_t u = 0;
        for (int b = 0; b < 8; b++)
            u = u << 8 | m->buf[m->pos + (size_t)b];
        m->pos += 8;
        ug_pk_obj *o = new_obj(m, UG_PK_FLOAT);
        if (o)
            memcpy(&o->f, &u, sizeof o->f);
        return push(m, o);
    }
    case 'c': return do_global(m);
    case 0x93: return do_stack_global(m);
    case 0x94: return do_put(m, m->n_memo); /* MEMOIZE */
    case 'Q': return do_binpersid(m);
    case 'R': return do_reduce(m);
    case 'b': return do_build(m);
    case 'q': case 'h': case 'r': case 'j': {
        int n = (op == 'q' || op == 'h') ? 1 : 4;
        if (need(m, (size_t)n) < 0)
            return -1;
        size_t idx = (size_t)le(m->buf + m->pos, n);
        m->pos += (size_t)n;
        return (op == 'q' || op == 'r') ? do_put(m, idx) : do_get(m, idx);
    }
    case '.':
        if (m->n_marks)
            return FAIL(m, "STOP with an open MARK");
        if (m->sp != 1)
            return FAIL(m, "STOP with %zu objects on the stack (1 expected)", m->sp);
        *stop = 1;
        return 0;
    default:
        return FAIL(m, "opcode 0x%02x (%s) is not allowed", op, op_name(op));
    }
}

int ug_pk_load_prefix(ug_pickle **out, const unsigned char *buf, size_t len,
                      const ug_pk_limits *lim, const char *name, size_t *used, ug_error *err)
{
    *out = NULL;
    *used = 0;
    machine m = {0};
    m.buf = buf;
    m.len = len;
    m.lim = lim;
    m.name = name;
    m.err = err;
    m.p = calloc(1, sizeof *m.p);
    m.marks = malloc((size_t)(lim->max_depth > 0 ? lim->max_depth : 1) * sizeof *m.marks);
    int rc = 0, stop = 0;
    if (!m.p || !m.marks)
        rc = ug_fail(err, "%s: out of memory", name);
    while (rc == 0 && !stop) {
        if (m.pos >= m.len) {
            m.op_pos = m.pos;
            m.ran_out = 1;
            rc = FAIL(&m, "the pickle ends without STOP");
            break;
        }
        m.op_pos = m.pos;
        rc = step(&m, &stop);
    }
    if (rc == 0)
        m.p->root = m.stack[0];
    free(m.stack);
    free(m.marks);
    free(m.memo);
    if (rc != 0) {
        ug_pk_free(m.p);
        return m.ran_out ? -2 : -1;
    }
    *out = m.p;
    *used = m.pos;
    return 0;
}

int ug_pk_load(ug_pickle **out, const unsigned char *buf, size_t len, const ug_pk_limits *lim,
               const char *name, ug_error *err)
{
    size_t used;
    if (ug_pk_load_prefix(out, buf, len, lim, name, &used, err) < 0)
        return -1;
    if (used != len) {
        ug_pk_free(*out);
        *out = NULL;
        return ug_fail(err, "%s: %zu bytes after STOP (at byte %zu)", name, len - used, used - 1);
    }
    return 0;
}

const ug_pk_obj *ug_pk_root(const ug_pickle *p) { return p->root; }

void ug_pk_free(ug_pickle *p)
{
    if (!p)
        return;
    free_pool(p);
    free(p);
}
