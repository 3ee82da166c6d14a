/* The scanner's walk of parsed JSON (detect/documents.py), compiled.
 *
 * A 100 MB export holds about a million strings, and the Python walk spends about a
 * microsecond on each only to find that no rule can report it. This module visits the same
 * values in the same order, applies the same exact gate (documents._may_report and
 * documents._may_judge), and calls back into Python only for the few strings that pass it:
 * judging them stays in Python. documents.py keeps the Python walk, used where this module
 * was not built, and the tests compare the two.
 *
 * The path is the caller's list of raw keys: a key or index is appended before a callback or
 * a descent and removed after, as the Python walk does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#ifndef KEYTURN_WALK_DIGEST
#define KEYTURN_WALK_DIGEST "unknown"
#endif

#define INDEX_STRINGS 256
/* documents.WALK_ABI: the functions' arguments and callbacks as documents.py calls them. */
#define WALK_ABI 1

/* Set once by configure(): documents.py's own objects and limits. */
static PyObject *is_secret_name_fn; /* values.is_secret_name(key, where) */
static PyObject *name_caches;       /* values.SECRET_NAME_CACHES: where -> {key: bool} */
static PyObject *code_keys;         /* documents._CODE_KEYS */
static PyObject *where_node, *where_pair;
static Py_ssize_t min_secret, min_unnamed, max_depth;
static int configured;

static PyObject *str_name, *str_value, *str_env, *str_scheme, *str_at, *str_equals;
static PyObject *str_parameters, *str_empty;
static PyObject *index_strings[INDEX_STRINGS];

typedef struct {
    PyObject *path;     /* list of str */
    PyObject *tokens;   /* tuple of (token, kind) */
    PyObject *on_match; /* node: (node, context, text, code, where); data: (key, text, part) */
    PyObject *on_deep;  /* node: (node, value, context); data: (value, context) */
    PyObject *where;    /* data walk only */
    int is_data;        /* data walk only: where is DATA */
    PyObject *node;     /* node walk only: the node's index in the workflow, or None */
    int in_node;        /* a node walk (its callbacks take the node first) */
} Walk;

/* ---- strings ---- */

static int
contains_ascii(PyObject *text, PyObject *needle_obj, const char *needle, size_t size)
{
    if (PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND) {
        /* Latin-1 or ASCII: an ASCII needle matches the same bytes. */
        return memmem(PyUnicode_1BYTE_DATA(text), (size_t)PyUnicode_GET_LENGTH(text), needle,
                      size) != NULL;
    }
    return PyUnicode_Contains(text, needle_obj);
}

static int
contains_str(PyObject *text, PyObject *needle)
{
    if (PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND && PyUnicode_IS_ASCII(needle)) {
        Py_ssize_t size = PyUnicode_GET_LENGTH(needle);
        if (size == 0) {
            return 1;
        }
        return memmem(PyUnicode_1BYTE_DATA(text), (size_t)PyUnicode_GET_LENGTH(text),
                      PyUnicode_1BYTE_DATA(needle), (size_t)size) != NULL;
    }
    return PyUnicode_Contains(text, needle);
}

/* values.known_token(text, tokens) is not None */
static int
holds_token(PyObject *text, PyObject *tokens)
{
    Py_ssize_t count = PyTuple_GET_SIZE(tokens);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyTuple_GET_ITEM(tokens, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 0))) {
            PyErr_SetString(PyExc_TypeError, "tokens must be (token, kind) pairs of str");
            return -1;
        }
        int found = contains_str(text, PyTuple_GET_ITEM(pair, 0));
        if (found != 0) {
            return found;
        }
    }
    return 0;
}

/* documents._is_pure_expression: "={{" ... "}}" with a single "{{" (counted as str.count). */
static int
is_pure_expression(PyObject *text)
{
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (size < 5 || PyUnicode_READ(kind, data, 0) != '=' || PyUnicode_READ(kind, data, 1) != '{' ||
        PyUnicode_READ(kind, data, 2) != '{' || PyUnicode_READ(kind, data, size - 1) != '}' ||
        PyUnicode_READ(kind, data, size - 2) != '}') {
        return 0;
    }
    Py_ssize_t opened = 0;
    for (Py_ssize_t i = 0; i + 1 < size; i++) {
        if (PyUnicode_READ(kind, data, i) == '{' && PyUnicode_READ(kind, data, i + 1) == '{') {
            if (++opened > 1) {
                return 0;
            }
            i++; /* str.count does not overlap */
        }
    }
    return opened == 1;
}

/* values.is_secret_name(key, where), through its own cache. */
static int
secret_name(PyObject *key, PyObject *where)
{
    PyObject *cache = PyDict_GetItemWithError(name_caches, where);
    if (cache != NULL && PyDict_CheckExact(cache)) {
        PyObject *known = PyDict_GetItemWithError(cache, key);
        if (known == Py_True) {
            return 1;
        }
        if (known == Py_False) {
            return 0;
        }
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    PyObject *result = PyObject_CallFunctionObjArgs(is_secret_name_fn, key, where, NULL);
    if (result == NULL) {
        return -1;
    }
    int answer = PyObject_IsTrue(result);
    Py_DECREF(result);
    return answer;
}

/* URL with a password, or (outside data) a query: the shared part of both gates. */
static int
url_may_hold(PyObject *text, int query_too)
{
    int found = contains_ascii(text, str_scheme, "://", 3);
    if (found <= 0) {
        return found;
    }
    found = contains_ascii(text, str_at, "@", 1);
    if (found != 0 || !query_too) {
        return found;
    }
    return contains_ascii(text, str_equals, "=", 1);
}

/* documents._may_report(context, text, where, tokens) */
static int
may_report(PyObject *context, PyObject *text, PyObject *where, PyObject *tokens)
{
    int found = contains_ascii(text, str_env, "env", 3);
    if (found != 0) {
        return found;
    }
    if (PyUnicode_GET_LENGTH(text) >= min_unnamed) {
        Py_UCS4 first = PyUnicode_READ_CHAR(text, 0);
        if (first == '=' || first == '{') {
            return !is_pure_expression(text);
        }
        found = url_may_hold(text, 1);
        if (found != 0) {
            return found;
        }
        found = holds_token(text, tokens);
        if (found != 0) {
            return found;
        }
    }
    return secret_name(context, where);
}

/* documents._may_judge(key, value, where, tokens) */
static int
may_judge(PyObject *key, PyObject *value, Walk *walk)
{
    int named = secret_name(key, walk->where);
    if (named != 0) {
        return named;
    }
    if (PyUnicode_GET_LENGTH(value) < min_unnamed) {
        return 0;
    }
    if (PyUnicode_READ_CHAR(value, 0) == '=') {
        return 1;
    }
    int found = url_may_hold(value, !walk->is_data);
    if (found != 0) {
        return found;
    }
    return holds_token(value, walk->tokens);
}

/* ---- the path ---- */

static PyObject *
index_string(Py_ssize_t index)
{
    if (index < INDEX_STRINGS) {
        return Py_NewRef(index_strings[index]);
    }
    return PyUnicode_FromFormat("%zd", index);
}

static int
push(Walk *walk, PyObject *part)
{
    return PyList_Append(walk->path, part);
}

static int
pop(Walk *walk)
{
    Py_ssize_t size = PyList_GET_SIZE(walk->path);
    return PyList_SetSlice(walk->path, size - 1, size, NULL);
}

static int
push_index(Walk *walk, Py_ssize_t index)
{
    PyObject *part = index_string(index);
    if (part == NULL) {
        return -1;
    }
    int failed = push(walk, part);
    Py_DECREF(part);
    return failed;
}

static int
call(PyObject *callable, PyObject *const *args, Py_ssize_t count)
{
    PyObject *result = PyObject_Vectorcall(callable, args, (size_t)count, NULL);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

static int
match_in_node(Walk *walk, PyObject *context, PyObject *text, int code, PyObject *where)
{
    PyObject *args[5] = {walk->node, context, text, code ? Py_True : Py_False, where};
    return call(walk->on_match, args, 5);
}

static int
deep(Walk *walk, PyObject *value, PyObject *context)
{
    if (!walk->in_node) {
        PyObject *args[2] = {value, context};
        return call(walk->on_deep, args, 2);
    }
    PyObject *args[3] = {walk->node, value, context};
    return call(walk->on_deep, args, 3);
}

static int
is_branch(PyObject *item)
{
    return (PyDict_CheckExact(item) && PyDict_GET_SIZE(item) > 0) ||
           (PyList_CheckExact(item) && PyList_GET_SIZE(item) > 0);
}

/* ---- node parameters: documents._walk_node_py ---- */

static int walk_node(PyObject *value, PyObject *context, Walk *walk);

static int
node_string(PyObject *key, PyObject *item, PyObject *pair_name, Walk *walk)
{
    PyObject *context = key, *where = where_node;
    if (pair_name != NULL && PyUnicode_CheckExact(key) &&
        PyUnicode_CompareWithASCIIString(key, "value") == 0) {
        context = pair_name; /* a named header, query or field */
        where = where_pair;
    }
    int code = PySet_Contains(code_keys, key);
    if (code < 0) {
        return -1;
    }
    if (!code) {
        int report = may_report(context, item, where, walk->tokens);
        if (report <= 0) {
            return report;
        }
    }
    if (push(walk, key) < 0) {
        return -1;
    }
    if (match_in_node(walk, context, item, code, where) < 0) {
        return -1;
    }
    return pop(walk);
}

static int
walk_node_dict(PyObject *value, Walk *walk)
{
    PyObject *pair_name = NULL;
    PyObject *pair_value = PyDict_GetItemWithError(value, str_value);
    if (pair_value == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (pair_value != NULL && PyUnicode_CheckExact(pair_value)) {
        pair_name = PyDict_GetItemWithError(value, str_name);
        if (pair_name == NULL && PyErr_Occurred()) {
            return -1;
        }
        if (pair_name != NULL && !PyUnicode_CheckExact(pair_name)) {
            pair_name = NULL;
        }
    }
    Py_XINCREF(pair_name);
    Py_ssize_t position = 0;
    PyObject *key, *item;
    int failed = 0;
    while (!failed && PyDict_Next(value, &position, &key, &item)) {
        Py_INCREF(key);
        Py_INCREF(item);
        if (PyUnicode_CheckExact(item)) {
            if (PyUnicode_GET_LENGTH(item) >= min_secret) {
                failed = node_string(key, item, pair_name, walk) < 0;
            }
        }
        else if (is_branch(item)) {
            failed = push(walk, key) < 0 || walk_node(item, key, walk) < 0 || pop(walk) < 0;
        }
        Py_DECREF(item);
        Py_DECREF(key);
    }
    Py_XDECREF(pair_name);
    return failed ? -1 : 0;
}

static int
walk_node_list(PyObject *value, PyObject *context, Walk *walk)
{
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(value); index++) {
        PyObject *item = PyList_GET_ITEM(value, index);
        Py_INCREF(item);
        int failed = 0;
        if (PyUnicode_CheckExact(item)) {
            if (PyUnicode_GET_LENGTH(item) >= min_secret) {
                int report = may_report(context, item, where_node, walk->tokens);
                if (report < 0) {
                    failed = 1;
                }
                else if (report) {
                    failed = push_index(walk, index) < 0 ||
                             match_in_node(walk, context, item, 0, where_node) < 0 ||
                             pop(walk) < 0;
                }
            }
        }
        else if (is_branch(item)) {
            failed = push_index(walk, index) < 0 || walk_node(item, context, walk) < 0 ||
                     pop(walk) < 0;
        }
        Py_DECREF(item);
        if (failed) {
            return -1;
        }
    }
    return 0;
}

static int
walk_node(PyObject *value, PyObject *context, Walk *walk)
{
    if (PyList_GET_SIZE(walk->path) > max_depth) {
        return deep(walk, value, context);
    }
    if (PyDict_CheckExact(value)) {
        return walk_node_dict(value, walk);
    }
    if (PyList_CheckExact(value)) {
        return walk_node_list(value, context, walk);
    }
    return 0;
}

/* ---- any JSON data: documents._walk_data_py ---- */

static int walk_data(PyObject *value, PyObject *context, Walk *walk);

static int
data_string(PyObject *key, PyObject *item, PyObject *part, Walk *walk)
{
    if (PyUnicode_GET_LENGTH(item) < min_secret) {
        return 0;
    }
    int judge = may_judge(key, item, walk);
    if (judge <= 0) {
        return judge;
    }
    PyObject *args[3] = {key, item, part};
    return call(walk->on_match, args, 3);
}

static int
walk_data_dict(PyObject *value, Walk *walk)
{
    Py_ssize_t position = 0;
    PyObject *key, *item;
    int failed = 0;
    while (!failed && PyDict_Next(value, &position, &key, &item)) {
        Py_INCREF(key);
        Py_INCREF(item);
        if (PyUnicode_CheckExact(item)) {
            failed = data_string(key, item, key, walk) < 0;
        }
        else if (is_branch(item)) {
            failed = push(walk, key) < 0 || walk_data(item, key, walk) < 0 || pop(walk) < 0;
        }
        Py_DECREF(item);
        Py_DECREF(key);
    }
    return failed ? -1 : 0;
}

static int
walk_data_list(PyObject *value, PyObject *context, Walk *walk)
{
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(value); index++) {
        PyObject *item = PyList_GET_ITEM(value, index);
        Py_INCREF(item);
        int failed = 0;
        if (PyUnicode_CheckExact(item)) {
            if (PyUnicode_GET_LENGTH(item) >= min_secret) {
                PyObject *part = index_string(index);
                failed = part == NULL || data_string(context, item, part, walk) < 0;
                Py_XDECREF(part);
            }
        }
        else if (is_branch(item)) {
            failed = push_index(walk, index) < 0 || walk_data(item, context, walk) < 0 ||
                     pop(walk) < 0;
        }
        Py_DECREF(item);
        if (failed) {
            return -1;
        }
    }
    return 0;
}

static int
walk_data(PyObject *value, PyObject *context, Walk *walk)
{
    if (PyList_GET_SIZE(walk->path) > max_depth) {
        return deep(walk, value, context);
    }
    if (PyDict_CheckExact(value)) {
        return walk_data_dict(value, walk);
    }
    if (PyList_CheckExact(value)) {
        return walk_data_list(value, context, walk);
    }
    return 0;
}

/* ---- the module ---- */

static int
check_walk(PyObject *path, PyObject *context, PyObject *tokens)
{
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "keyturn.detect._walk: configure() first");
        return -1;
    }
    if (!PyList_CheckExact(path) || !PyUnicode_CheckExact(context) ||
        !PyTuple_CheckExact(tokens)) {
        PyErr_SetString(PyExc_TypeError, "path must be a list, context a str, tokens a tuple");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(walk_node_doc,
             "walk_node(value, path, context, tokens, on_match, on_deep)\n\n"
             "documents._walk_node_py on one node's parameters: on_match(None, context, text, "
             "code, where) for each string that can give a finding, the path holding its keys.");

static PyObject *
py_walk_node(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "walk_node takes 6 arguments");
        return NULL;
    }
    Walk walk = {args[1], args[3], args[4], args[5], where_node, 0, Py_None, 1};
    if (check_walk(args[1], args[2], args[3]) < 0 || walk_node(args[0], args[2], &walk) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* One node of documents.scan_workflow: its parameters, from the path [root]. */
static int
walk_one_node(PyObject *node, PyObject *prefix, Py_ssize_t index, Walk *walk)
{
    if (!PyDict_Check(node)) {
        return 0;
    }
    PyObject *parameters = PyDict_GetItemWithError(node, str_parameters);
    if (parameters == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyDict_Check(parameters)) {
        return 0;
    }
    Py_INCREF(parameters);
    PyObject *root = PyUnicode_FromFormat("%U/nodes/%zd/parameters", prefix, index);
    PyObject *number = PyLong_FromSsize_t(index);
    Py_ssize_t size = PyList_GET_SIZE(walk->path);
    int failed = root == NULL || number == NULL ||
                 PyList_SetSlice(walk->path, 0, size, NULL) < 0 || push(walk, root) < 0;
    if (!failed) {
        walk->node = number;
        failed = walk_node(parameters, str_empty, walk) < 0;
        walk->node = Py_None;
    }
    Py_XDECREF(number);
    Py_XDECREF(root);
    Py_DECREF(parameters);
    return failed ? -1 : 0;
}

PyDoc_STRVAR(walk_nodes_doc,
             "walk_nodes(nodes, prefix, path, tokens, on_match, on_deep)\n\n"
             "The nodes of documents.scan_workflow: each node's parameters walked from the path "
             "[f'{prefix}/nodes/{index}/parameters'] (the list is reset for each node), "
             "on_match(index, context, text, code, where) and on_deep(index, value, context).");

static PyObject *
py_walk_nodes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "walk_nodes takes 6 arguments");
        return NULL;
    }
    PyObject *nodes = args[0], *prefix = args[1];
    if (check_walk(args[2], prefix, args[3]) < 0) {
        return NULL;
    }
    if (!PyList_Check(nodes)) {
        PyErr_SetString(PyExc_TypeError, "nodes must be a list");
        return NULL;
    }
    Walk walk = {args[2], args[3], args[4], args[5], where_node, 0, Py_None, 1};
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(nodes); index++) {
        PyObject *node = PyList_GET_ITEM(nodes, index);
        Py_INCREF(node);
        int failed = walk_one_node(node, prefix, index, &walk) < 0;
        Py_DECREF(node);
        if (failed) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(walk_data_doc,
             "walk_data(value, path, context, where, is_data, tokens, on_match, on_deep)\n\n"
             "documents._walk_data_py: on_match(key, text, part) for each string that can give "
             "a finding, the path holding its container's keys.");

static PyObject *
py_walk_data(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "walk_data takes 8 arguments");
        return NULL;
    }
    int is_data = PyObject_IsTrue(args[4]);
    if (is_data < 0 || check_walk(args[1], args[2], args[5]) < 0) {
        return NULL;
    }
    if (!PyUnicode_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "where must be a str");
        return NULL;
    }
    Walk walk = {args[1], args[5], args[6], args[7], args[3], is_data, Py_None, 0};
    if (walk_data(args[0], args[2], &walk) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(configure_doc,
             "configure(is_secret_name, name_caches, code_keys, node, pair, min_secret, "
             "min_unnamed, max_depth)\n\ndocuments.py's own objects and limits, once.");

static PyObject *
py_configure(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *function, *caches, *keys, *node, *pair;
    Py_ssize_t secret, unnamed, depth;
    if (!PyArg_ParseTuple(args, "OO!O!UUnnn", &function, &PyDict_Type, &caches,
                          &PyFrozenSet_Type, &keys, &node, &pair, &secret, &unnamed, &depth)) {
        return NULL;
    }
    Py_XSETREF(is_secret_name_fn, Py_NewRef(function));
    Py_XSETREF(name_caches, Py_NewRef(caches));
    Py_XSETREF(code_keys, Py_NewRef(keys));
    Py_XSETREF(where_node, Py_NewRef(node));
    Py_XSETREF(where_pair, Py_NewRef(pair));
    min_secret = secret;
    min_unnamed = unnamed;
    max_depth = depth;
    configured = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"walk_node", (PyCFunction)(void (*)(void))py_walk_node, METH_FASTCALL, walk_node_doc},
    {"walk_nodes", (PyCFunction)(void (*)(void))py_walk_nodes, METH_FASTCALL, walk_nodes_doc},
    {"walk_data", (PyCFunction)(void (*)(void))py_walk_data, METH_FASTCALL, walk_data_doc},
    {"configure", py_configure, METH_VARARGS, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "keyturn.detect._walk",
    "The scanner's walk of parsed JSON, compiled (see detect/documents.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__walk(void)
{
    PyObject *self = PyModule_Create(&module);
    if (self == NULL) {
        return NULL;
    }
    str_name = PyUnicode_InternFromString("name");
    str_value = PyUnicode_InternFromString("value");
    str_env = PyUnicode_InternFromString("env");
    str_scheme = PyUnicode_InternFromString("://");
    str_at = PyUnicode_InternFromString("@");
    str_equals = PyUnicode_InternFromString("=");
    str_parameters = PyUnicode_InternFromString("parameters");
    str_empty = PyUnicode_InternFromString("");
    if (!str_name || !str_value || !str_env || !str_scheme || !str_at || !str_equals ||
        !str_parameters || !str_empty) {
        Py_DECREF(self);
        return NULL;
    }
    for (Py_ssize_t index = 0; index < INDEX_STRINGS; index++) {
        index_strings[index] = PyUnicode_FromFormat("%zd", index);
        if (index_strings[index] == NULL) {
            Py_DECREF(self);
            return NULL;
        }
    }
    if (PyModule_AddStringConstant(self, "SOURCE_DIGEST", KEYTURN_WALK_DIGEST) < 0 ||
        PyModule_AddIntConstant(self, "ABI", WALK_ABI) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return self;
}
