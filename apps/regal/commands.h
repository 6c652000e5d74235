#pragma once
// One registration function per subcommand; each lives in its own file and
// only parses options and dispatches into the library.
namespace CLI {
class App;
}

namespace regal::app {

void add_inspect_dataset(CLI::App& app);
void add_make_scenes(CLI::App& app);
void add_pretrain(CLI::App& app);
void add_train_supervised(CLI::App& app);
void add_train_policy(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_experiment(CLI::App& app);
void add_report(CLI::App& app);
void add_select(CLI::App& app);
void add_finetune(CLI::App& app);
void add_import_policy(CLI::App& app);

}  // namespace regal::app
